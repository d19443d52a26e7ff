"""Helpers of the asset and lineage tests: what AEP itself says about a dataflow and its runs."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_provider_aep.hooks.aep import AEPHook
from tests.flow_runs.flow_run_helpers import run_trigger, task_context

OL_TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"


def flow_dataset(hook: AEPHook, flow_id: str) -> str:
    """The dataset a dataflow writes: its target connection's ``params.dataSetId``."""
    flow = hook.get_item("flowservice", f"/flows/{flow_id}")
    [target_id] = flow["targetConnectionIds"]
    dataset: str = hook.get_item("flowservice", f"/targetConnections/{target_id}")["params"]["dataSetId"]
    return dataset


def flow_source(hook: AEPHook, flow_id: str) -> str:
    [source_id] = hook.get_item("flowservice", f"/flows/{flow_id}")["sourceConnectionIds"]
    return str(source_id)


def run_facts(hook: AEPHook, run_id: str) -> dict[str, Any]:
    """A run's record counts and the batches its activities reference, read straight from ``GET /runs``."""
    item = hook.get_item("flowservice", f"/runs/{run_id}")
    records = item["metrics"]["recordSummary"]
    batches = [
        batch
        for activity in item.get("activities") or []
        for target in activity.get("targetInfo") or []
        if target["reference"]["type"] == "Batch"
        for batch in target["reference"]["ids"]
    ]
    return {
        "input_records": records["inputRecordCount"],
        "output_records": records["outputRecordCount"],
        "failed_records": records["failedRecordCount"],
        "batch_ids": batches,
    }


def asset_context(start: int, end: int) -> Any:
    """A task context with a data interval, an XCom sink and real outlet event accessors."""
    return task_context(start, end, outlet_events=OutletEventAccessors())


def execute(task: Any, context: Any, deferrable: bool) -> Any:
    """Run a task as the task runner would: straight, or deferred, its trigger run, then resumed."""
    if not deferrable:
        return task.execute(context)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    event = run_trigger(deferred.value.trigger)
    return task.resume_execution(deferred.value.method_name, {"event": event}, context)


def requested_paths(requests: list[dict[str, Any]]) -> list[str]:
    """``METHOD path`` of each request the emulator logged."""
    return [f"{r['method']} {r['path']}" for r in requests]
