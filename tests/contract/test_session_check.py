"""The session check: it names the test that sent a violation, folds long lists, and fails the session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.contract.plugin import BETWEEN_TESTS, RunTimeline, report_lines, sent_by_provider
from tests.contract.request_check import Violation

REPO = Path(__file__).resolve().parents[2]
CONFTEST = """
from tests.contract.plugin import RequestContractPlugin

def pytest_configure(config):
    config.pluginmanager.register(RequestContractPlugin(), "aep-request-contract")
"""
SAMPLE = """
import httpx
from aep_emulator.testing import RunningEmulator

PROVIDER = {"User-Agent": "airflow-provider-aep/0.0.0"}

def send(path, headers):
    with RunningEmulator() as emulator:
        httpx.get(emulator.url + path, headers=headers)

def test_sends_a_declared_request():
    send("/data/foundation/flowservice/flows?limit=5", PROVIDER)

def test_probes_the_emulator_by_hand():
    send("/data/foundation/flowservice/nowhere?x=1", {})
"""
BAD_SAMPLE = """
def test_sends_an_undeclared_query_parameter():
    send("/data/foundation/flowservice/connectionSpecs?limit=1", PROVIDER)
"""


def _session(tmp_path: Path, tests: str, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_sample.py").write_text(tests, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "AEP_EMULATOR_RECORD"}
    env.update(PYTHONPATH=str(REPO), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "test_sample.py"]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def assert_reports_the_undeclared_limit(result: subprocess.CompletedProcess[str]) -> None:
    """The session of SAMPLE + BAD_SAMPLE: all 3 tests passed, and the one violation names its test."""
    assert "3 passed" in result.stdout
    assert "request contract: 1 violations" in result.stdout
    assert (
        "GET /data/foundation/flowservice/connectionSpecs | query limit: not a declared query parameter"
        " | 1x, sent by test_sample.py::test_sends_an_undeclared_query_parameter"
    ) in result.stdout


def test_a_session_whose_provider_requests_are_declared_passes(tmp_path: Path) -> None:
    result = _session(tmp_path, SAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "request contract: 1 provider requests checked" in result.stdout
    assert "(1 requests tests sent by hand not checked)" in result.stdout


def test_a_provider_request_off_the_contract_fails_the_session_naming_its_test(tmp_path: Path) -> None:
    result = _session(tmp_path, SAMPLE + BAD_SAMPLE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert_reports_the_undeclared_limit(result)


def test_under_xdist_the_workers_requests_are_checked_and_fail_the_session(tmp_path: Path) -> None:
    # `make test` runs on xdist workers: each checks its own requests, the controller adds them up.
    result = _session(tmp_path, SAMPLE + BAD_SAMPLE, "-p", "xdist", "-n", "2", "--dist", "load")
    assert result.returncode == 1, result.stdout + result.stderr
    assert_reports_the_undeclared_limit(result)
    passing = _session(tmp_path, SAMPLE, "-p", "xdist", "-n", "2", "--dist", "load")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "request contract: 1 provider requests checked" in passing.stdout
    assert "(1 requests tests sent by hand not checked); from 2 xdist workers" in passing.stdout


def test_requests_are_attributed_to_the_test_running_when_they_arrived() -> None:
    timeline = RunTimeline()
    timeline.start("test_a")
    timeline.finish("test_a")
    timeline.start("test_b")
    during_b = timeline._started["test_b"] + 1e-9
    timeline.finish("test_b")
    assert timeline.test_at(during_b) == "test_b"
    assert timeline.test_at(0.0) == BETWEEN_TESTS


def test_only_the_providers_user_agent_counts_as_the_provider() -> None:
    assert sent_by_provider({"user_agent": "airflow-provider-aep/1.2.3 httpx"})
    assert not sent_by_provider({"user_agent": "python-httpx/0.28"})
    assert not sent_by_provider({})


def test_unknown_fields_of_one_object_are_folded_into_one_line() -> None:
    inlet = "POST /collection/{CONNECTION_ID}"
    violations = {
        Violation(inlet, "body", f"body.field{index}", "not in the request schema"): ["t::a", "t::a"]
        for index in range(8)
    }
    violations[Violation(inlet, "body", "header", "'flowId' is a required property")] = ["t::a"]
    assert report_lines(violations) == [
        f"{inlet} | body body.{{field0, field1, field2, field3, field4, field5 and 2 more}}: "
        "not in the request schema | 2x, sent by t::a",
        f"{inlet} | body header: 'flowId' is a required property | 1x, sent by t::a",
    ]
