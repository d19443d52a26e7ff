"""OpenLineage ``FAIL`` facets of the run operator and the sensor, after real runs against the emulator
that AEP failed, or called successful while dropping rows, and after a task that failed before any run.

The last tests go the way of the OpenLineage provider's listener when a task fails: its extractor
(``ExtractorManager.extract_metadata`` in state ``FAILED``), then ``OpenLineageAdapter.fail_task`` with
the task's exception, emitting through the ``file`` transport; the event is read back from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowSkipException

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.assets import aep_dataset_asset
from airflow_provider_aep.exceptions import AEPConfigError, AEPDroppedRowsError, AEPFlowRunFailedError
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.assets.asset_helpers import (
    asset_context,
    execute,
    flow_dataset,
    flow_source,
    requested_paths,
    run_facts,
)
from tests.assets.openlineage_events import emit_task_event, use_file_transport
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, midnight, start_run

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

WINDOW = (midnight(3), midnight(2))
SOURCE_DOWN = {"code": "CONNECTOR-2001-500", "message": "source down"}
DROPPED_ROW_CODE = "INGEST-1212-400"


@pytest.fixture
def events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """OpenLineage enabled, its events written to this file."""
    path = tmp_path / "openlineage.jsonl"
    use_file_transport(path, monkeypatch)
    return path


def fail(task: Any, context: dict[str, Any], deferrable: bool, error: type[Exception]) -> Exception:
    """Run the task until it fails with ``error``, and leave the exception where Airflow's task runner
    does before the listeners run: in the task context (``context["exception"]``)."""
    with pytest.raises(error) as failure:
        execute(task, context, deferrable)
    context["exception"] = failure.value
    context["ti"].get_template_context.return_value = context
    return failure.value


def on_failure(task: Any, context: dict[str, Any]) -> Any:
    lineage = task.get_openlineage_facets_on_failure(context["ti"])
    assert lineage is not None
    return lineage


def run_facet(lineage: Any, name: str) -> dict[str, Any]:
    import attrs

    facet = lineage.run_facets[name]
    return {k: v for k, v in attrs.asdict(facet).items() if not k.startswith("_") and k != "producer"}


def check_datasets(lineage: Any, aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str) -> None:
    """The source connection in, the dataset out with the rows AEP wrote, the run as external query."""
    namespace = f"aep://{aep.org_id}/prod"
    [source] = lineage.inputs
    assert (source.namespace, source.name) == (namespace, f"sourceConnections/{flow_source(hook, flow)}")
    [output] = lineage.outputs
    assert (output.namespace, output.name) == (namespace, f"datasets/{flow_dataset(hook, flow)}")
    assert output.outputFacets["outputStatistics"].rowCount == run_facts(hook, run_id)["output_records"]
    assert lineage.run_facets["externalQuery"].externalQueryId == run_id


@pytest.mark.usefixtures("events_file")
@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_run_reports_its_datasets_and_the_runs_failure(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed", [SOURCE_DOWN])
    task = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2, deferrable=deferrable
    )
    context = asset_context(*WINDOW)
    fail(task, context, deferrable, AEPFlowRunFailedError)
    run_id = context["ti"].pushed["flow_run_id"]
    assert context["ti"].pushed["run_report"]["statuses"] == ["failed"], "the report of a failed run too"
    lineage = on_failure(task, context)
    check_datasets(lineage, aep, hook, flow, run_id)
    message = run_facet(lineage, "errorMessage")["message"]
    assert message.startswith("AEPFlowRunFailedError: ")
    facts = run_facts(hook, run_id)
    for expected in (
        run_id,
        "(failed)",
        f"{facts['input_records']} read, {facts['output_records']} written",
        "CONNECTOR-2001-500",
        "source down",
    ):
        assert expected in message, (expected, message)
    assert run_facet(lineage, "errorMessage")["programmingLanguage"] == "python"
    assert "test" not in lineage.run_facets, "a failed run never reached the quality gate"


@pytest.mark.usefixtures("events_file")
@pytest.mark.parametrize("deferrable", [False, True])
def test_dropped_rows_over_the_gate_report_the_rows_written_and_a_failed_test(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "success", failedRecords=3)
    run_id = start_run(hook, flow, days_ago=2)
    task = AEPFlowRunSensor(
        task_id="wait", flow_run_id=run_id, poke_interval=0.2, timeout=30, deferrable=deferrable
    )
    context = asset_context(*WINDOW)
    fail(task, context, deferrable, AEPDroppedRowsError)
    lineage = on_failure(task, context)
    check_datasets(lineage, aep, hook, flow, run_id)
    facts = run_facts(hook, run_id)
    assert facts["failed_records"] == 3
    assert lineage.outputs[0].outputFacets["outputStatistics"].rowCount == facts["input_records"] - 3
    [test] = run_facet(lineage, "test")["tests"]
    assert test["name"] == "aep_dropped_rows"
    assert (test["status"], test["severity"], test["actual"]) == ("fail", "error", "3")
    assert test["expected"].startswith("0")
    assert test["params"]["records_failed"] == 3
    assert test["params"]["run_ids"] == [run_id]
    assert DROPPED_ROW_CODE in test["params"]["error_codes"]
    message = run_facet(lineage, "errorMessage")["message"]
    assert message.startswith("AEPDroppedRowsError: ")
    for expected in (run_id, "(success)", "3 failed", DROPPED_ROW_CODE):
        assert expected in message, (expected, message)


@pytest.mark.usefixtures("events_file")
def test_dropped_rows_the_task_tolerates_show_as_a_passed_test_on_complete(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "success", failedRecords=2)
    task = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2, max_failed_records=2
    )
    run_id = task.execute(asset_context(*WINDOW))
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage is not None
    check_datasets(lineage, aep, hook, flow, run_id)
    [test] = run_facet(lineage, "test")["tests"]
    assert (test["status"], test["actual"], test["expected"]) == ("pass", "2", "max_failed_records=2")
    assert "errorMessage" not in lineage.run_facets


@pytest.mark.usefixtures("events_file")
def test_a_soft_fail_skip_reports_what_landed_with_the_failed_test(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    """A skipped task gets a COMPLETE event (the provider asks for the complete facets): the rows AEP
    did write are reported, with the gate's test failed."""
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "success", failedRecords=1)
    run_id = start_run(hook, flow, days_ago=2)
    task = AEPFlowRunSensor(task_id="wait", flow_run_id=run_id, poke_interval=0.2, timeout=30, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="dropped 1 of"):
        task.execute(asset_context(*WINDOW))
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage is not None
    check_datasets(lineage, aep, hook, flow, run_id)
    [test] = run_facet(lineage, "test")["tests"]
    assert (test["status"], test["actual"]) == ("fail", "1")


def test_a_config_error_before_any_run_reports_the_declared_outlet_and_the_message(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, events_file: Path
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    with DAG("aep_lineage", schedule=None):
        task = AEPTriggerFlowRunOperator(
            task_id="ingest", flow_id=flow, window_start="not a date", outlets=[dataset]
        )
    before = len(aep.requests())
    context = asset_context(*WINDOW)
    error = fail(task, context, False, AEPConfigError)
    assert requested_paths(aep.requests()[before:]) == [], "it failed before any HTTP call"
    lineage = on_failure(task, context)
    assert (lineage.inputs, lineage.outputs) == ([], []), "the task learned no dataset itself"
    assert run_facet(lineage, "errorMessage")["message"] == f"AEPConfigError: {error}"
    assert "window_start" in str(error)
    event = emit_task_event(task, context["ti"], events_file, error)
    [output] = event["outputs"]
    assert f"{output['namespace']}/{output['name']}" == dataset.uri, "the provider reports the outlet"
    assert "window_start" in event["run"]["facets"]["errorMessage"]["message"]


def test_the_emitted_fail_event_carries_the_facts_and_no_secret(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, events_file: Path
) -> None:
    """Through the OpenLineage provider's own extractor and adapter, to the file transport. AEP's error
    message here holds the connection's client secret: it is masked in our facet and in the event."""
    flow = make_flow(start_time=FAR_FUTURE)
    leak = {"code": "CONNECTOR-2001-500", "message": f"refused client_secret={aep.client_secret}"}
    aep.set_flow_outcome(flow, "failed", [leak])
    with DAG("aep_lineage", schedule=None):
        task = AEPTriggerFlowRunOperator(
            task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2
        )
    context = asset_context(*WINDOW)
    error = fail(task, context, False, AEPFlowRunFailedError)
    run_id = context["ti"].pushed["flow_run_id"]
    ours = run_facet(on_failure(task, context), "errorMessage")["message"]
    assert aep.client_secret not in ours
    assert "refused client_secret=***" in ours
    event = emit_task_event(task, context["ti"], events_file, error)
    serialized = events_file.read_text()
    assert aep.client_secret not in serialized
    assert hook.access_token() not in serialized
    assert event["eventType"] == "FAIL"
    namespace = f"aep://{aep.org_id}/prod"
    assert [(i["namespace"], i["name"]) for i in event["inputs"]] == [
        (namespace, f"sourceConnections/{flow_source(hook, flow)}")
    ]
    [output] = event["outputs"]
    assert output["name"] == f"datasets/{flow_dataset(hook, flow)}"
    written = run_facts(hook, run_id)["output_records"]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == written
    facets = event["run"]["facets"]
    assert facets["externalQuery"]["externalQueryId"] == run_id
    # the listener puts the exception it caught in errorMessage: this provider's names the run too
    assert run_id in facets["errorMessage"]["message"]
    assert "CONNECTOR-2001-500" in facets["errorMessage"]["message"]
