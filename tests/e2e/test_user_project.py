"""A user's own repository (``examples/user_project``: two DAGs, a test file written with the
``aep_emulator`` pytest plugin and the docs only) passes its tests, run as the user runs them: ``pytest``
in that folder, in a subprocess, with a clean ``AIRFLOW_HOME`` and nothing from this repository's test
suite (no ``tests/`` import, no conftest of ours: the plugin comes from the installed entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from .harness import REPO_ROOT

pytestmark = pytest.mark.slow

PROJECT = REPO_ROOT / "examples" / "user_project"
#: The tests of ``examples/user_project/tests/test_my_dags.py``, each a behaviour the docs page promises.
EXPECTED_TESTS = {
    "test_the_daily_dag_ingests_its_own_day",
    "test_the_daily_dag_fails_when_aep_drops_rows",
    "test_a_lost_answer_to_the_dataflow_create_makes_no_duplicate",
    "test_aep_runs_the_hourly_dataflow_on_its_own_clock",
}


def user_environment(airflow_home: Path) -> dict[str, str]:
    """This process's environment without what the user would not have: Airflow settings, pytest's
    options and the repository on ``PYTHONPATH``; a fresh ``AIRFLOW_HOME``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "PYTEST_")) and key != "PYTHONPATH"
    }
    env["AIRFLOW_HOME"] = str(airflow_home)
    return env


@pytest.mark.timeout(1200)
def test_the_user_project_passes_its_own_dag_tests(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(PROJECT),
            f"--junitxml={report}",
            "-q",
        ],
        cwd=PROJECT,
        env=user_environment(tmp_path / "airflow-home"),
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    output = f"--- stdout (tail)\n{result.stdout[-8000:]}\n--- stderr (tail)\n{result.stderr[-3000:]}"
    assert result.returncode == 0, output
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = {
        case.get("name"): [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        for case in cases
    }
    assert set(outcomes) == EXPECTED_TESTS, output
    assert all(problems == [] for problems in outcomes.values()), outcomes
