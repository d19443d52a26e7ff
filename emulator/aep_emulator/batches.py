"""Catalog batches that flow runs write: ``GET /batches/{id}`` as Catalog answers it.

A run that finished and wrote records references its batch in the promotion activity's ``targetInfo``
(help/sources/tutorials/api/monitor.md); the batch is derived from that run on every read.
"""

from __future__ import annotations

from typing import Any

from aep_emulator.runs import render_run
from aep_emulator.state import Resource, Store


def render_batch(store: Store, sandbox: str, batch_id: str) -> Resource | None:
    """Catalog's ``GET /batches/{id}`` object of the batch a finished run wrote, or ``None``.

    Shape from help/ingestion/quality/error-diagnostics.md: ``status``, ``relatedObjects`` (the
    dataset), ``metrics`` (input/output/failed record counts), ``errors`` (a batch can say success and
    still list row errors), ``tags`` (``acp_enableErrorDiagnostics``/``acp_partialIngestionPercent`` when
    partial ingestion was on), ``started``/``completed``/``created``/``updated`` in epoch ms.
    """
    for run in store.kind(sandbox, "runs").values():
        if run["plan"].get("batchId") != batch_id:
            continue
        rendered = render_run(store, sandbox, run)
        targets = [
            info
            for activity in rendered["activities"]
            for info in activity.get("targetInfo") or []
            if batch_id in (info.get("reference") or {}).get("ids", [])
        ]
        if not targets:
            return None  # not written (yet): the run has not finished, or wrote nothing
        records = rendered["metrics"]["recordSummary"]
        forced = store.kind(sandbox, "runOutcomes").get(run["id"]) or {}
        tags: dict[str, Any] = {}
        if forced.get("partialIngestionPercent") is not None:
            tags = {
                "acp_enableErrorDiagnostics": True,
                "acp_partialIngestionPercent": forced["partialIngestionPercent"],
            }
        datasets = [
            (store.kind(sandbox, "targetConnections").get(info["id"]) or {})
            .get("params", {})
            .get("dataSetId")
            for info in targets
        ]
        plan = run["plan"]
        batch: Resource = {
            "id": batch_id,
            "status": "success",
            "relatedObjects": [{"type": "dataSet", "id": dataset} for dataset in datasets if dataset],
            "metrics": {
                "inputRecordCount": records["inputRecordCount"],
                "outputRecordCount": records["outputRecordCount"],
                "failedRecordCount": records["failedRecordCount"],
            },
            "tags": tags,
            "started": plan["startsAtMs"],
            "completed": plan["completesAtMs"],
            "created": plan["startsAtMs"],
            "updated": plan["completesAtMs"],
        }
        errors = [
            {"code": e.get("code"), "description": e.get("message"), **_record_count(e)}
            for e in rendered["metrics"]["statusSummary"]["errors"]
        ]
        if errors:
            batch["errors"] = errors
        return batch
    return None


def _record_count(error: dict[str, Any]) -> dict[str, Any]:
    return {"recordCount": error["recordCount"]} if isinstance(error.get("recordCount"), int) else {}


def all_batches(store: Store, sandbox: str) -> list[Resource]:
    """Every batch the finished runs of a sandbox wrote, oldest first."""
    ids = [run["plan"].get("batchId") for run in store.kind(sandbox, "runs").values()]
    found = [render_batch(store, sandbox, batch_id) for batch_id in ids if batch_id]
    return sorted((batch for batch in found if batch), key=lambda batch: (batch["created"], batch["id"]))
