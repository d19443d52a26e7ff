"""The ``aep_emulator`` pytest plugin as a user's suite meets it (pytester: a fresh pytest session in a
temporary project, the plugin loaded from its ``pytest11`` entry point): one fixture gives a reset
emulator and the Airflow connections, the settings work and a bad one is named."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]
# The inner sessions load only what a user's would: no cache, no pytest-asyncio of this venv.
ISOLATED = ("-p", "no:cacheprovider", "-p", "no:asyncio")

USER_TESTS = """
import json, os, time

def test_first_moves_the_clock_and_adds_a_fault(aep_emulator):
    aep_emulator.advance_clock(7200)
    aep_emulator.add_faults([{"path": "/data/foundation/catalog", "status": 500, "times": 5}])

def test_second_gets_a_clean_emulator_and_its_connections(aep_emulator, aep_emulator_session):
    assert aep_emulator is aep_emulator_session
    assert abs(aep_emulator.now() - time.time()) < 60
    assert aep_emulator.batches() == []
    aep = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    assert aep["host"] == aep_emulator.url
    print("SANDBOX=" + aep["extra"]["sandbox"])
    print("RUN_DURATION=" + str(aep_emulator.configure()["run_duration_seconds"]))
    paypal = json.loads(os.environ["AIRFLOW_CONN_PAYPAL_DEFAULT"])
    assert paypal["login"] == aep_emulator.settings.paypal_client_id
"""


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    [plugin] = [point for point in entry_points(group="pytest11") if point.name == "aep_emulator"]
    assert plugin.value == "aep_emulator.pytest_plugin"


def test_each_test_gets_a_reset_emulator_and_the_connections(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*ISOLATED, "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*SANDBOX=prod*", "*RUN_DURATION=1.0*"])


def test_ini_settings_and_flags(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naep_emulator_sandbox = dev\naep_emulator_run_duration = 4\n")
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*ISOLATED, "-s", "--aep-emulator-run-duration", "0.5")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*SANDBOX=dev*", "*RUN_DURATION=0.5*"])  # the flag wins over the ini


def test_the_state_file_setting_keeps_the_sessions_state(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naep_emulator_state_file = aep-state.json\n")
    pytester.makepyfile(test_user="def test_it(aep_emulator):\n    aep_emulator.advance_clock(60)\n")
    pytester.runpytest(*ISOLATED).assert_outcomes(passed=1)
    saved = json.loads((pytester.path / "aep-state.json").read_text())
    assert saved["clock_offset"] == 60


@pytest.mark.parametrize(
    ("ini", "named"),
    [
        (
            "aep_emulator_run_duration = soon",
            "*aep_emulator_run_duration: must be a number of seconds, got 'soon'*",
        ),
        ("aep_emulator_run_duration = -1", "*aep_emulator_run_duration: must not be negative*"),
        ("aep_dags_folder = no_such_dags", "*aep_dags_folder: *no_such_dags does not exist*"),
    ],
)
def test_a_bad_setting_is_named(pytester: pytest.Pytester, ini: str, named: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_user="def test_it(aep_airflow):\n    pass\n")
    result = pytester.runpytest(*ISOLATED)
    assert result.ret != 0
    combined = result.stdout.lines + result.stderr.lines
    assert any(fnmatch(line, named) for line in combined), combined
