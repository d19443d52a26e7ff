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
from tests.assets.asset_helpers import (
    execute,
    flow_dataset,
    requested_paths,
    run_facts,
)
from tests.assets.openlineage_events import (
    check_event_source_and_dataset,
    check_source_and_dataset,
    emit_task_event,
    facet_fields,
    ingest_task,
    start_window_run,
    wait_task,
    window_context,
)

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")
# Every test has OpenLineage on, its events written to a file (``events_file``).
pytestmark = pytest.mark.usefixtures("events_file")

SOURCE_DOWN = {"code": "CONNECTOR-2001-500", "message": "source down"}
DROPPED_ROW_CODE = "INGEST-1212-400"


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


def failure_lineage(task: Any, deferrable: bool, error: type[Exception]) -> tuple[dict[str, Any], Any]:
    """Run the task over ``WINDOW`` until it fails with ``error``: its context and its FAIL lineage."""
    context = window_context()
    fail(task, context, deferrable, error)
    return context, on_failure(task, context)


def run_facet(lineage: Any, name: str) -> dict[str, Any]:
    return facet_fields(lineage.run_facets[name])


def check_datasets(lineage: Any, aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str) -> None:
    """The source connection in, the dataset out with the rows AEP wrote, the run as external query."""
    check_source_and_dataset(lineage, aep, hook, flow, run_id)
    written = run_facts(hook, run_id)["output_records"]
    assert lineage.outputs[0].outputFacets["outputStatistics"].rowCount == written


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_run_reports_its_datasets_and_the_runs_failure(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, deferrable: bool
) -> None:
    aep.set_flow_outcome(idle_flow, "failed", [SOURCE_DOWN])
    task = ingest_task(idle_flow, deferrable=deferrable)
    context, lineage = failure_lineage(task, deferrable, AEPFlowRunFailedError)
    run_id = context["ti"].pushed["flow_run_id"]
    assert context["ti"].pushed["run_report"]["statuses"] == ["failed"], "the report of a failed run too"
    check_datasets(lineage, aep, hook, idle_flow, run_id)
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


@pytest.mark.parametrize("deferrable", [False, True])
def test_dropped_rows_over_the_gate_report_the_rows_written_and_a_failed_test(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, deferrable: bool
) -> None:
    aep.set_flow_outcome(idle_flow, "success", failedRecords=3)
    run_id = start_window_run(hook, idle_flow)
    task = wait_task(run_id, deferrable=deferrable)
    _, lineage = failure_lineage(task, deferrable, AEPDroppedRowsError)
    check_datasets(lineage, aep, hook, idle_flow, run_id)
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


def test_dropped_rows_the_task_tolerates_show_as_a_passed_test_on_complete(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str
) -> None:
    aep.set_flow_outcome(idle_flow, "success", failedRecords=2)
    task = ingest_task(idle_flow, max_failed_records=2)
    run_id = task.execute(window_context())
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage is not None
    check_datasets(lineage, aep, hook, idle_flow, run_id)
    [test] = run_facet(lineage, "test")["tests"]
    assert (test["status"], test["actual"], test["expected"]) == ("pass", "2", "max_failed_records=2")
    assert "errorMessage" not in lineage.run_facets


def test_a_soft_fail_skip_reports_what_landed_with_the_failed_test(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str
) -> None:
    """A skipped task gets a COMPLETE event (the provider asks for the complete facets): the rows AEP
    did write are reported, with the gate's test failed."""
    aep.set_flow_outcome(idle_flow, "success", failedRecords=1)
    run_id = start_window_run(hook, idle_flow)
    task = wait_task(run_id, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="dropped 1 of"):
        task.execute(window_context())
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage is not None
    check_datasets(lineage, aep, hook, idle_flow, run_id)
    [test] = run_facet(lineage, "test")["tests"]
    assert (test["status"], test["actual"]) == ("fail", "1")


def test_a_config_error_before_any_run_reports_the_declared_outlet_and_the_message(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, events_file: Path
) -> None:
    dataset = aep_dataset_asset(flow_dataset(hook, idle_flow), sandbox="prod", org_id=aep.org_id)
    with DAG("aep_lineage", schedule=None):
        task = ingest_task(idle_flow, window_start="not a date", outlets=[dataset])
    before = len(aep.requests())
    context = window_context()
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
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, events_file: Path
) -> None:
    """Through the OpenLineage provider's own extractor and adapter, to the file transport. AEP's error
    message here holds the connection's client secret: it is masked in our facet and in the event."""
    leak = {"code": "CONNECTOR-2001-500", "message": f"refused client_secret={aep.client_secret}"}
    aep.set_flow_outcome(idle_flow, "failed", [leak])
    with DAG("aep_lineage", schedule=None):
        task = ingest_task(idle_flow)
    context = window_context()
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
    check_event_source_and_dataset(event, aep, hook, idle_flow, run_id)
    facets = event["run"]["facets"]
    # the listener puts the exception it caught in errorMessage: this provider's names the run too
    assert run_id in facets["errorMessage"]["message"]
    assert "CONNECTOR-2001-500" in facets["errorMessage"]["message"]
