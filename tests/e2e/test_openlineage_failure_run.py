"""The ``FAIL`` OpenLineage event of an ingestion that dropped rows, under Airflow's own task runner and
the OpenLineage provider's listener (``airflow dags test``, file transport): the facets the task reports
on failure reach the event, with the exception the runner hands the listener, and no secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from tests.assets.asset_helpers import flow_dataset, flow_source, run_facts
from tests.flow_runs.conftest import aep, hook, make_flow
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow

from .conftest import days_ago
from .harness import AirflowCli

__all__ = ["aep", "hook", "make_flow"]

pytestmark = pytest.mark.slow

DAG_FILE = """
import json
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator

FLOW_ID = json.loads((Path(__file__).parent / "flow.json").read_text())["flow_id"]

with DAG("aep_lineage_failure", schedule=None):
    AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=FLOW_ID, delta_column="Update_Time", poll_interval=0.5
    )
"""


def test_the_fail_event_of_dropped_rows_carries_the_task_facets(
    airflow_cli: AirflowCli, aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, tmp_path: Path
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "success", failedRecords=3)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "flow.json").write_text(json.dumps({"flow_id": flow}))
    (dags / "aep_lineage_failure.py").write_text(DAG_FILE)
    events = tmp_path / "openlineage.jsonl"
    transport = json.dumps({"type": "file", "log_file_path": str(events), "append": True})
    cli = AirflowCli(
        airflow_cli.home,
        aep.conn_env(),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__OPENLINEAGE__TRANSPORT=transport,
    )
    result = cli.dags_test("aep_lineage_failure", days_ago(2), check=False)
    assert "AEPDroppedRowsError" in result.stdout + result.stderr, result.stdout[-3000:]
    fails = [e for e in map(json.loads, events.read_text().splitlines()) if e["eventType"] == "FAIL"]
    [event] = [e for e in fails if e["job"]["name"] == "aep_lineage_failure.ingest"]
    run_id = event["run"]["facets"]["externalQuery"]["externalQueryId"]
    facts: dict[str, Any] = run_facts(hook, run_id)
    assert facts["failed_records"] == 3
    [source] = event["inputs"]
    assert source["name"] == f"sourceConnections/{flow_source(hook, flow)}"
    [output] = event["outputs"]
    assert output["name"] == f"datasets/{flow_dataset(hook, flow)}"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == facts["output_records"]
    [test] = event["run"]["facets"]["test"]["tests"]
    assert (test["name"], test["status"], test["actual"]) == ("aep_dropped_rows", "fail", "3")
    message = event["run"]["facets"]["errorMessage"]["message"]
    assert run_id in message
    assert "dropped 3 of" in message
    assert aep.client_secret not in events.read_text()
