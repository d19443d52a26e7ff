"""The run report and the quality gate: a run AEP calls ``success`` may still have dropped rows.

Adobe's monitoring example shows ``status: success`` with ``failedRecordCount: 1``; the emulator makes
such runs with ``set_flow_outcome(flow, "success", failedRecords=N)``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException, TaskDeferred

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPConfigError, AEPDroppedRowsError
from airflow_provider_aep.flow_runs import FlowRunReport, RunError
from airflow_provider_aep.flow_runs.report import BatchSummary, QualityGate, build_report
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.flow_runs.flow_run_helpers import (
    FAR_FUTURE,
    MakeFlow,
    midnight,
    run_trigger,
    start_run,
    task_context,
)


def operator(flow_id: str, **kwargs: Any) -> AEPTriggerFlowRunOperator:
    return AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow_id, delta_column="Update_Time", poll_interval=0.2, timeout=30, **kwargs
    )


def run_with_dropped_rows(
    aep: RunningEmulator, make_flow: MakeFlow, failed: int, partial_percent: int | None = None
) -> str:
    flow = make_flow(start_time=FAR_FUTURE)
    if partial_percent is None:
        aep.set_flow_outcome(flow, "success", failedRecords=failed)
    else:
        aep.set_flow_outcome(flow, "success", failedRecords=failed, partialIngestionPercent=partial_percent)
    return flow


def test_dropped_rows_fail_the_task_by_default_with_counts_codes_and_the_way_out(
    aep: RunningEmulator,
    make_flow: MakeFlow,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    flow = run_with_dropped_rows(aep, make_flow, 2)
    context = task_context(midnight(2), midnight(1))
    with caplog.at_level(logging.INFO), pytest.raises(AEPDroppedRowsError) as failure:
        operator(flow).execute(context)
    logged = caplog.text + "".join(capfd.readouterr())
    assert logged.count("Failed row: batch") == 2, "the first failed rows are logged, with their error codes"
    assert "AEP flow run report" in logged
    message = str(failure.value)
    assert "succeeded but dropped 2 of" in message
    assert "INGEST-1212-400" in message
    assert "max_failed_records=2" in message
    report = context["ti"].pushed["run_report"]
    assert report["records"]["failed"] == 2
    assert report["records"]["written"] == report["records"]["read"] - 2
    assert [batch["failed_records"] for batch in report["batches"]] == [2]


@pytest.mark.parametrize(
    ("thresholds", "passes"),
    [
        ({"max_failed_records": 2}, True),
        ({"max_failed_records": 1}, False),
        ({"max_failed_ratio": 0.9}, True),
        ({"max_failed_ratio": 0.001}, False),
        ({"max_failed_records": 5, "max_failed_ratio": 0.001}, False),
    ],
)
def test_an_explicit_threshold_accepts_what_it_says(
    aep: RunningEmulator, make_flow: MakeFlow, thresholds: dict[str, Any], passes: bool
) -> None:
    flow = run_with_dropped_rows(aep, make_flow, 2)
    task = operator(flow, **thresholds)
    if passes:
        assert task.execute(task_context(midnight(2), midnight(1)))
    else:
        with pytest.raises(AEPDroppedRowsError):
            task.execute(task_context(midnight(2), midnight(1)))


def test_the_dataflows_partial_ingestion_threshold_is_respected_unless_the_task_says_otherwise(
    aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    """help/ingestion/batch-ingestion/partial.md: the batch's acp_partialIngestionPercent is what the
    dataflow allows; the gate does not contradict it, but a task's own threshold wins."""
    flow = run_with_dropped_rows(aep, make_flow, 1, partial_percent=50)
    assert operator(flow).execute(task_context(midnight(2), midnight(1)))
    with pytest.raises(AEPDroppedRowsError, match="max_failed_records=0"):
        operator(flow, max_failed_records=0).execute(task_context(midnight(3), midnight(2)))


def test_the_deferrable_sensor_applies_the_same_gate_and_soft_fail_skips(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = run_with_dropped_rows(aep, make_flow, 3)
    run_id = start_run(hook, flow)

    def sensor(soft_fail: bool) -> AEPFlowRunSensor:
        return AEPFlowRunSensor(
            task_id="wait", flow_run_id=run_id, deferrable=True, poke_interval=0.2, soft_fail=soft_fail
        )

    context = task_context(midnight(1), midnight(0))
    waiting = sensor(soft_fail=False)
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute(context)
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(AEPDroppedRowsError, match="dropped 3 of"):
        waiting.resume_execution("execute_complete", {"event": event}, context)
    assert context["ti"].pushed["run_report"]["records"]["failed"] == 3
    # the run has ended now: the next sensor concludes without deferring, and soft_fail skips
    with pytest.raises(AirflowSkipException, match="dropped 3 of"):
        sensor(soft_fail=True).execute(task_context(midnight(1), midnight(0)))


def test_allow_partial_success_without_threshold_accepts_dropped_rows(
    aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    flow = run_with_dropped_rows(aep, make_flow, 2)
    assert operator(flow, allow_partial_success=True).execute(task_context(midnight(2), midnight(1)))


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("max_failed_records", -1),
        ("max_failed_records", 1.5),
        ("max_failed_ratio", 2),
        ("max_failed_ratio", "x"),
    ],
)
def test_a_bad_threshold_fails_when_the_dag_is_parsed_naming_it(argument: str, value: Any) -> None:
    with pytest.raises(AEPConfigError, match=argument):
        AEPFlowRunSensor(task_id="wait", flow_run_id="r", **{argument: value})
    with pytest.raises(AEPConfigError, match=argument):
        operator("f", **{argument: value})


def test_the_report_lists_each_error_code_once_with_its_count() -> None:
    errors = (RunError("INGEST-1212-400", "2 rows", "run"), RunError("INGEST-1212-400", "2 rows", "Copy"))
    runs = [
        FlowRunReport(
            "r1",
            "f",
            "success",
            errors,
            {"inputRecordCount": 10, "outputRecordCount": 8, "failedRecordCount": 2},
            started_at_ms=1_000,
            completed_at_ms=61_000,
            window_start=100,
            window_end=200,
        )
    ]
    report = build_report(runs, [BatchSummary("B1", "success", 2, ("INGEST-1212-400",))])
    assert report.error_codes == {"INGEST-1212-400": 2}
    assert report.to_xcom()["error_codes"] == {"INGEST-1212-400": 2}
    assert report.duration_seconds == 60
    summary = report.summary()
    assert summary.count("INGEST-1212-400 (x2)") == 1
    assert "10 read, 8 written, 2 failed (20.00%)" in summary
    assert QualityGate(max_failed_ratio=0.2).violation(report) is None
    assert "max_failed_ratio=0.2" in (QualityGate().violation(report) or "")
