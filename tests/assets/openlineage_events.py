"""Emit a task's OpenLineage event the way the OpenLineage provider's listener does when a task ends,
and read it back from the ``file`` transport."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.assets.asset_helpers import OL_TRANSPORT


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
