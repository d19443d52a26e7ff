"""Deferrable mode end to end: ``airflow dags test`` (which runs triggers inline) on a test DAG."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aep_emulator.testing import RunningEmulator
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, midnight, planned_window, runs_in_state

DAGS = Path(__file__).resolve().parent / "dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# a recent day, so the emulator's sample table has records in both windows
LOGICAL_DATE = datetime.datetime.fromtimestamp(midnight(3), tz=datetime.timezone.utc)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Airflow home with a migrated SQLite database and the test DAG folder."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    return env


def dags_test(env: dict[str, str], aep: RunningEmulator, flow_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            AIRFLOW,
            "dags",
            "test",
            "aep_flow_run_deferrable",
            LOGICAL_DATE.isoformat(),
            "--conf",
            json.dumps({"flow_id": flow_id}),
        ],
        env={**env, **aep.conn_env()},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_both_waits_run_in_the_triggerer(
    airflow_home: dict[str, str], aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    result = dags_test(airflow_home, aep, flow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert output.count("Pausing task as DEFERRED") == 2, "ingest and wait_next both defer"
    assert output.count("Trigger completed") == 2
    day = 86400
    start = int(LOGICAL_DATE.timestamp())
    windows = sorted(planned_window(r) for r in runs_in_state(aep, flow))
    # ingest: the day before the logical date; start_next: the day after
    assert windows == [(start - day, start), (start, start + day)]
    assert all(run["plan"]["input"] > 0 for run in runs_in_state(aep, flow))


def test_a_failed_run_fails_the_dag_run(
    airflow_home: dict[str, str], aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed", [{"code": "CONNECTOR-2001-500", "message": "PayPal is down"}])
    result = dags_test(airflow_home, aep, flow)
    output = result.stdout + result.stderr
    assert "CONNECTOR-2001-500" in output, output[-3000:]
    assert "AEPFlowRunFailedError" in output
    assert len(runs_in_state(aep, flow)) == 1, "a failed ingest stops the DAG run before start_next"
