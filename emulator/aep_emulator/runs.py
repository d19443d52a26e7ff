"""Flow runs: on-demand and scheduled creation, the status timeline, metrics and forced outcomes.

A run is stored once with its plan (when it starts, when it completes, how many records it reads and
why it fails, if it does) and rendered on every read against the emulated clock, so its status moves
``scheduled`` -> ``inProgress`` -> ``success``/``partialSuccess``/``failed`` without any background task.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from aep_emulator import sample_data
from aep_emulator.state import Resource, Store

# Scheduled runs a single read may create; older missed intervals are skipped (documented).
MAX_CATCH_UP_RUNS = 500
QUEUE_FRACTION = 0.2
FREQUENCY_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
FINAL_DEFAULT_ERRORS = {
    "failed": {"code": "CONNECTOR-2001-500", "message": "The run failed (outcome forced by the emulator)."},
    "partialSuccess": {"code": "MAPPER-3700-400", "message": "Some records could not be mapped."},
}


def new_etag() -> str:
    """A fresh etag: a JSON string that itself contains quotes, as AEP sends it."""
    return f'"{uuid.uuid4()}"'


def to_seconds(value: Any) -> float:
    """Epoch seconds from seconds or milliseconds (Adobe documents both for run times)."""
    number = float(value)
    return number / 1000 if number > 100_000_000_000 else number


def source_table(store: Store, sandbox: str, flow: Resource) -> str | None:
    """The table a batch flow reads (``params.tableName`` or ``params.path`` of its source connection)."""
    for source_id in flow.get("sourceConnectionIds", []):
        source = store.kind(sandbox, "sourceConnections").get(source_id)
        if source is not None:
            params = source.get("params") or {}
            table = params.get("tableName") or params.get("path")
            if isinstance(table, str):
                return table
    return None


def flow_delta_column(flow: Resource) -> str | None:
    """The delta column of the flow's ``Copy`` transformation."""
    for transformation in flow.get("transformations", []):
        delta = (transformation.get("params") or {}).get("deltaColumn")
        if transformation.get("name") == "Copy" and isinstance(delta, dict):
            name = delta.get("name")
            return str(name) if name is not None else None
    return None


def _plan_ingestion(
    store: Store, sandbox: str, flow: Resource, window: tuple[float, float], delta_column: str | None
) -> dict[str, Any]:
    """Record counts and failure of a batch run over ``window`` (epoch seconds)."""
    table = source_table(store, sandbox, flow)
    columns = sample_data.TABLES.get(table or "")
    if columns is None:
        error = {"code": "CONNECTOR-2001-500", "message": f"Source object {table!r} was not found."}
        return {"input": 0, "output": 0, "failed": 0, "failure": error}
    if not delta_column or delta_column not in columns or delta_column not in sample_data.TIME_COLUMNS:
        message = f"Delta column {delta_column!r} is not a date-time column of {table}."
        return {
            "input": 0,
            "output": 0,
            "failed": 0,
            "failure": {"code": "CONNECTOR-1001-500", "message": message},
        }
    count = sample_data.count_rows(str(table), delta_column, window[0], window[1], store.now())
    return {"input": count, "output": count, "failed": 0, "failure": None}


def create_run(
    store: Store,
    sandbox: str,
    flow: Resource,
    *,
    run_at: float,
    window: tuple[float, float] | None,
    params: dict[str, Any],
    kind: str,
) -> Resource:
    """Store a new run of ``flow`` that starts (after a short queue) at ``run_at``."""
    duration = store.config.run_duration_seconds
    starts_at = run_at + duration * QUEUE_FRACTION
    if kind == "streaming":
        plan: dict[str, Any] = {"input": 0, "output": 0, "failed": 0, "failure": None}
    else:
        delta = (params.get("deltaColumn") or {}).get("name") or flow_delta_column(flow)
        plan = _plan_ingestion(store, sandbox, flow, window or (0.0, run_at), delta)
    run_id = str(uuid.uuid4())
    run: Resource = {
        "id": run_id,
        **store.audit(sandbox),
        "createdAt": int(run_at * 1000),
        "updatedAt": int(run_at * 1000),
        "flowId": flow["id"],
        "flowSpec": dict(flow["flowSpec"]),
        "providerRefId": str(uuid.uuid4()),
        "etag": new_etag(),
        "params": params,
        "runKind": kind,
        "plan": {
            **plan,
            "startsAtMs": int(starts_at * 1000),
            "completesAtMs": int((starts_at + duration) * 1000),
            "windowMs": None if window is None else [int(window[0] * 1000), int(window[1] * 1000)],
            "batchId": uuid.uuid4().hex[:26].upper(),
            "sourceConnectionIds": list(flow.get("sourceConnectionIds") or []),
            "targetConnectionIds": list(flow.get("targetConnectionIds") or []),
        },
    }
    store.kind(sandbox, "runs")[run_id] = run
    forced = store.kind(sandbox, "flowOutcomes").get(flow["id"])
    if forced is not None:
        store.kind(sandbox, "runOutcomes")[run_id] = dict(forced)
    return run


def _final_status(
    store: Store, sandbox: str, run: Resource
) -> tuple[str, list[dict[str, Any]], dict[str, int]]:
    plan = run["plan"]
    counts = {"input": plan["input"], "output": plan["output"], "failed": plan["failed"]}
    if run["runKind"] == "streaming":
        received = store.kind(sandbox, "inlets").get(run["flowId"], {}).get("records", 0)
        counts = {"input": received, "output": received, "failed": 0}
    forced = store.kind(sandbox, "runOutcomes").get(run["id"])
    if forced is None:
        if plan["failure"] is not None:
            return "failed", [plan["failure"]], {"input": 0, "output": 0, "failed": 0}
        return "success", [], counts
    status = str(forced["status"])
    errors = list(forced.get("errors") or [])
    if not errors and status in FINAL_DEFAULT_ERRORS:
        errors = [FINAL_DEFAULT_ERRORS[status]]
    if status == "failed":
        counts = {"input": counts["input"], "output": 0, "failed": counts["input"]}
    elif status == "partialSuccess" or "failedRecords" in forced:
        default = max(1, counts["input"] // 10) if counts["input"] else 0
        failed = min(int(forced.get("failedRecords", default)), counts["input"])
        counts = {"input": counts["input"], "output": counts["input"] - failed, "failed": failed}
        if failed and not errors:
            # Adobe's monitoring and error-diagnostics examples: a run (and batch) that says success
            # while some rows were dropped, with INGEST-1212-400 summing them up
            errors = [
                {
                    "code": "INGEST-1212-400",
                    "message": f"{failed} rows had errors; {counts['output']} rows were ingested.",
                    "recordCount": failed,
                }
            ]
    return status, errors, counts


def render_run(store: Store, sandbox: str, run: Resource, *, echo_params: bool | None = None) -> Resource:
    """The run as ``GET /runs/{id}`` shows it at the current emulated time.

    The shape follows Adobe's run monitoring example (help/sources/tutorials/api/monitor.md): run-level
    ``metrics`` and two activities, ``copyActivity`` (its ``durationSummary.extensions`` hold the data
    window in epoch ms, its ``sourceInfo`` the source connection) and ``promotionActivity`` (its
    ``targetInfo`` references the Catalog batch written). Where the window shows is the runtime config
    ``run_window_fields`` (see ``RuntimeConfig``); ``echo_params`` forces the ``params`` echo (the
    whole-run answer of ``POST /runs`` in the draft create-flow-runs page has them).
    """
    now_ms = store.now_ms()
    plan = run["plan"]
    fields = store.config.run_window_fields
    hidden = {"plan", "runKind", "params"}
    public = {key: value for key, value in run.items() if key not in hidden}
    if echo_params or (echo_params is None and fields in ("activity_and_params", "params")):
        public["params"] = run["params"]
    duration: dict[str, int] = {}
    records = {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0}
    errors: list[dict[str, Any]] = []
    if now_ms < plan["startsAtMs"]:
        status = "scheduled"
    elif now_ms < plan["completesAtMs"]:
        status = "inProgress"
        duration["startedAtUTC"] = plan["startsAtMs"]
    else:
        status, errors, counts = _final_status(store, sandbox, run)
        duration = {"startedAtUTC": plan["startsAtMs"], "completedAtUTC": plan["completesAtMs"]}
        records = {
            "inputRecordCount": counts["input"],
            "outputRecordCount": counts["output"],
            "failedRecordCount": counts["failed"],
        }
    status_summary: dict[str, Any] = {"status": status, "errors": errors}
    if errors:
        status_summary["extensions"] = {"errors": errors}
    sizes = {
        "inputBytes": records["inputRecordCount"] * 512,
        "outputBytes": records["outputRecordCount"] * 512,
    }
    public["metrics"] = {
        "durationSummary": duration,
        "sizeSummary": sizes,
        "recordSummary": records,
        "statusSummary": status_summary,
    }
    common = {
        "updatedAtUTC": min(now_ms, plan["completesAtMs"]),
        "sizeSummary": dict(sizes),
        "recordSummary": dict(records),
    }
    copy_duration: dict[str, Any] = dict(duration)
    window = plan.get("windowMs")
    if window is not None and fields in ("activity", "activity_and_params"):
        copy_duration["extensions"] = {"windowStart": window[0], "windowEnd": window[1]}
    copy_status: dict[str, Any] = {"status": status, "extensions": {"type": _run_type(run)}}
    promotion_status: dict[str, Any] = {"status": status}
    if errors:
        promotion_status["extensions"] = {"errors": errors}
    promotion: dict[str, Any] = {
        "id": "promotionActivity",
        **common,
        "durationSummary": dict(duration),
        "statusSummary": promotion_status,
    }
    batch_id = plan.get("batchId")
    if status in ("success", "partialSuccess") and batch_id and records["outputRecordCount"]:
        promotion["targetInfo"] = [
            {"id": target, "type": "TargetConnection", "reference": {"type": "Batch", "ids": [batch_id]}}
            for target in plan.get("targetConnectionIds") or []
        ]
    public["activities"] = [
        {
            "id": "copyActivity",
            **common,
            "durationSummary": copy_duration,
            "statusSummary": copy_status,
            "sourceInfo": [
                {
                    "id": source,
                    "type": "SourceConnection",
                    "reference": {"type": "AdfRunId", "ids": [run["providerRefId"]]},
                }
                for source in plan.get("sourceConnectionIds") or []
            ],
        },
        promotion,
    ]
    return public


def _run_type(run: Resource) -> str:
    """``statusSummary.extensions.type`` of the copy activity: ``one-time`` in Adobe's example."""
    return "one-time" if run["runKind"] == "onDemand" else str(run["runKind"])


def _schedule_step(flow: Resource) -> float | None:
    schedule = flow.get("scheduleParams") or {}
    frequency = schedule.get("frequency")
    if frequency not in FREQUENCY_SECONDS:
        return None
    return FREQUENCY_SECONDS[frequency] * int(schedule.get("interval", 1))


def init_schedule(store: Store, sandbox: str, flow: Resource, created_at: float) -> None:
    """Set the time of the flow's first scheduled run (``once``: its ``startTime``)."""
    schedule = flow.get("scheduleParams")
    if not schedule:
        return
    start = float(schedule["startTime"])
    step = _schedule_step(flow)
    if step is None:
        first = start
    else:
        first = start if start >= created_at else start + math.ceil((created_at - start) / step) * step
    store.kind(sandbox, "scheduleCursors")[flow["id"]] = {"next": first, "first": first}


def resume_schedule(store: Store, sandbox: str, flow: Resource) -> None:
    """On enable: continue at the next grid point after now, without replaying the disabled time."""
    cursor = store.kind(sandbox, "scheduleCursors").get(flow["id"])
    step = _schedule_step(flow)
    if cursor is None or step is None:
        return
    now = store.now()
    if cursor["next"] < now:
        cursor["next"] += math.ceil((now - cursor["next"]) / step) * step


def refresh_flow(store: Store, sandbox: str, flow: Resource) -> None:
    """Create the scheduled runs that are due by now (lazily, on reads)."""
    cursor = store.kind(sandbox, "scheduleCursors").get(flow["id"])
    if cursor is None or flow.get("state") != "enabled":
        return
    now = store.now()
    step = _schedule_step(flow)
    if step is None:
        if cursor["next"] is not None and cursor["next"] <= now:
            start = cursor["next"]
            window = (start - sample_data.HISTORY_DAYS * sample_data.DAY, start)
            _scheduled(store, sandbox, flow, start, window)
            cursor["next"] = None
        return
    due = int((now - cursor["next"]) // step) + 1 if cursor["next"] <= now else 0
    if due > MAX_CATCH_UP_RUNS:
        cursor["next"] += (due - MAX_CATCH_UP_RUNS) * step
    backfill = bool((flow.get("scheduleParams") or {}).get("backfill", True))
    while cursor["next"] <= now:
        run_at = cursor["next"]
        first = run_at == cursor["first"]
        window_start = (
            run_at - sample_data.HISTORY_DAYS * sample_data.DAY if first and backfill else run_at - step
        )
        _scheduled(store, sandbox, flow, run_at, (window_start, run_at))
        cursor["next"] = run_at + step


def _scheduled(
    store: Store, sandbox: str, flow: Resource, run_at: float, window: tuple[float, float]
) -> None:
    params: dict[str, Any] = {"windowStartTime": int(window[0]), "windowEndTime": int(window[1])}
    delta = flow_delta_column(flow)
    if delta:
        params["deltaColumn"] = {"name": delta}
    create_run(store, sandbox, flow, run_at=run_at, window=window, params=params, kind="scheduled")


def refresh_sandbox(store: Store, sandbox: str) -> None:
    """Materialize due scheduled runs of every flow in a sandbox."""
    for flow in list(store.kind(sandbox, "flows").values()):
        refresh_flow(store, sandbox, flow)


def refresh_all_runs(store: Store) -> None:
    """Materialize due scheduled runs everywhere (admin ``GET state``)."""
    for sandbox in store.sandboxes:
        refresh_sandbox(store, sandbox)


def last_run_details(store: Store, sandbox: str, flow_id: str) -> dict[str, Any] | None:
    """``lastRunDetails`` of a flow: its most recent run's id, status and times."""
    runs = [run for run in store.kind(sandbox, "runs").values() if run["flowId"] == flow_id]
    if not runs:
        return None
    latest = max(runs, key=lambda run: (run["createdAt"], run["plan"]["startsAtMs"]))
    rendered = render_run(store, sandbox, latest)
    details: dict[str, Any] = {"id": latest["id"], "state": rendered["metrics"]["statusSummary"]["status"]}
    details.update(rendered["metrics"]["durationSummary"])
    return details
