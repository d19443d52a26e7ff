"""The docs' minimal DAG (``docs/examples/minimal_dag.py``, shown on the Getting started page and in the
README), copied unchanged into a DAGs folder, runs green against the emulator and leaves what the page
says a user will see: the run's XComs and one of each AEP resource, and no error line in its logs."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.sources import CRM_TO_AEP_FLOW_SPEC_ID, PAYPAL_CONNECTION_SPEC_ID

from .conftest import days_ago
from .harness import REPO_ROOT, AirflowCli, epoch

pytestmark = pytest.mark.slow

EXAMPLE = REPO_ROOT / "docs" / "examples" / "minimal_dag.py"
DAG_ID = "my_paypal_products"


def xcoms(home: Path, run_id: str) -> dict[tuple[str, str], Any]:
    """Every XCom of one DAG run, by (task id, key), read from Airflow's SQLite database."""
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id, key, value FROM xcom WHERE dag_id = ? AND run_id = ?", (DAG_ID, run_id)
        ).fetchall()
    found: dict[tuple[str, str], Any] = {}
    for task_id, key, value in rows:
        found[(task_id, key)] = json.loads(value) if isinstance(value, (str, bytes)) else value
    return found


def test_the_docs_minimal_dag_runs_as_written(
    airflow_cli: AirflowCli, emulator: RunningEmulator, tmp_path: Path
) -> None:
    emulator.configure(run_duration_seconds=0)  # a run is over at once: the sensor's first look succeeds
    shutil.copy(EXAMPLE, tmp_path / f"{DAG_ID}.py")
    cli = AirflowCli(airflow_cli.home, emulator.conn_env(), AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path))
    logical_date = days_ago(2)
    result = cli.dags_test(DAG_ID, logical_date)
    [run] = cli.dag_runs(DAG_ID)[:1]
    assert run["state"] == "success", result.stdout[-3000:]

    # AEP now holds one of each resource the page lists, named after name_prefix
    state = emulator.state()["prod"]
    [base] = state["connections"]
    assert base["connectionSpec"]["id"] == PAYPAL_CONNECTION_SPEC_ID  # source="paypal"
    for kind in ("sourceConnections", "targetConnections", "schemas", "dataSets", "mappingSets"):
        assert len(state[kind]) == 1, kind
    [flow] = state["flows"]
    assert flow["name"] == "My products dataflow"
    assert flow["flowSpec"]["id"] == CRM_TO_AEP_FLOW_SPEC_ID  # looked up by name, CRMToAEP
    assert [t["name"] for t in flow["transformations"]] == ["Copy", "Mapping"]
    [on_demand] = [
        r for r in state["runs"] if r.get("runKind") != "scheduled" and "windowStartTime" in r["params"]
    ]
    midnight = epoch(f"{logical_date}T00:00:00+00:00")
    # "@daily" gives a manual run no data interval: the window rule takes the last full UTC day before it
    assert (int(on_demand["params"]["windowStartTime"]), int(on_demand["params"]["windowEndTime"])) == (
        midnight - 86400,
        midnight,
    )

    # the XComs the page says to look at: the flow run id, and the run report of the wait
    pushed = xcoms(cli.home, run["run_id"])
    assert pushed[("run_and_wait.run_window", "flow_run_id")] == on_demand["id"]
    assert pushed[("source_to_dataset.create_dataflow", "return_value")] == flow["id"]
    report = pushed[("run_and_wait.wait_for_run", "run_report")]
    assert report["flow_id"] == flow["id"]
    assert report["run_ids"] == [on_demand["id"]]
    assert report["records"]["failed"] == 0

    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "[error" in line or "XCom not found" in line]
    assert errors == [], "a successful run logged errors"
