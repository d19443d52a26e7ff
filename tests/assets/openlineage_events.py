"""What the OpenLineage tests share: the tasks and runs over ``WINDOW``, their facets as plain dicts, the
source/dataset identity every lineage of a run carries, and a task's OpenLineage event emitted the way
the OpenLineage provider's listener does when a task ends, read back from the ``file`` transport."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.assets.asset_helpers import OL_TRANSPORT, asset_context, flow_dataset, flow_source, run_facts
from tests.flow_runs.flow_run_helpers import midnight, start_run

#: The data interval of every task here: from three days ago to two days ago (UTC midnights).
WINDOW = (midnight(3), midnight(2))


def window_context() -> Any:
    """A fresh task context whose data interval is ``WINDOW`` (see ``asset_context``)."""
    return asset_context(*WINDOW)


def start_window_run(hook: AEPHook, flow_id: str) -> str:
    """Start an on-demand run of ``flow_id`` over ``WINDOW``; its id."""
    return start_run(hook, flow_id, days_ago=2)


def ingest_task(flow_id: str, **kwargs: Any) -> AEPTriggerFlowRunOperator:
    """The run operator on ``flow_id`` (delta column ``Update_Time``), polling every 0.2 s."""
    return AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow_id, delta_column="Update_Time", poll_interval=0.2, **kwargs
    )


def wait_task(run_id: str, **kwargs: Any) -> AEPFlowRunSensor:
    """The sensor on ``run_id``, poking every 0.2 s for at most 30 s."""
    return AEPFlowRunSensor(task_id="wait", flow_run_id=run_id, poke_interval=0.2, timeout=30, **kwargs)


def facet_fields(facet: Any) -> dict[str, Any]:
    """An OpenLineage facet (an attrs class) as a dict of its public fields, ``producer`` left out."""
    import attrs

    return {k: v for k, v in attrs.asdict(facet).items() if not k.startswith("_") and k != "producer"}


def check_source_and_dataset(
    lineage: Any, aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str
) -> None:
    """The dataflow's source connection in, its dataset out, the run as the external query."""
    namespace = f"aep://{aep.org_id}/prod"
    [source] = lineage.inputs
    assert (source.namespace, source.name) == (namespace, f"sourceConnections/{flow_source(hook, flow)}")
    [output] = lineage.outputs
    assert (output.namespace, output.name) == (namespace, f"datasets/{flow_dataset(hook, flow)}")
    assert lineage.run_facets["externalQuery"].externalQueryId == run_id


def check_event_source_and_dataset(
    event: dict[str, Any], aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str
) -> None:
    """The same in an emitted event (as the file transport wrote it), with the rows AEP wrote."""
    namespace = f"aep://{aep.org_id}/prod"
    source_name = f"sourceConnections/{flow_source(hook, flow)}"
    [source] = event["inputs"]
    assert (source["namespace"], source["name"]) == (namespace, source_name)
    [output] = event["outputs"]
    assert (output["namespace"], output["name"]) == (namespace, f"datasets/{flow_dataset(hook, flow)}")
    written = run_facts(hook, run_id)["output_records"]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == written
    assert event["run"]["facets"]["externalQuery"]["externalQueryId"] == run_id


def use_file_transport(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenLineage enabled with the ``file`` transport, one event a line (config is not cached in tests)."""
    monkeypatch.setenv(OL_TRANSPORT, json.dumps({"type": "file", "log_file_path": str(path), "append": True}))


def emit_task_event(task: Any, ti: Any, path: Path, error: BaseException | None = None) -> dict[str, Any]:
    """The listener's two steps: the extractor (``ExtractorManager.extract_metadata`` in state
    ``SUCCESS``, or ``FAILED`` with ``error``), then ``OpenLineageAdapter.complete_task`` or
    ``fail_task(error=...)``; returns the one event the file transport wrote."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter
    from airflow.utils.state import TaskInstanceState

    state = TaskInstanceState.SUCCESS if error is None else TaskInstanceState.FAILED
    lineage = ExtractorManager().extract_metadata(  # type: ignore[no-untyped-call]
        dagrun=mock.Mock(run_id="manual"), task=task, task_instance_state=state, task_instance=ti
    )
    adapter = OpenLineageAdapter()
    common: dict[str, Any] = {
        "run_id": str(uuid.uuid4()),
        "job_name": f"{task.dag_id}.{task.task_id}",
        "end_time": datetime.datetime.now(tz=datetime.timezone.utc).isoformat(),
        "task": lineage,
        "nominal_start_time": None,
        "nominal_end_time": None,
        "owners": None,
        "tags": None,
        "job_description": None,
    }
    if error is None:
        adapter.complete_task(**common)  # type: ignore[no-untyped-call]
    else:
        adapter.fail_task(**common, error=error)  # type: ignore[no-untyped-call]
    [line] = path.read_text().splitlines()
    event: dict[str, Any] = json.loads(line)
    return event
