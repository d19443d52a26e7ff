"""Finding the runs a wait is about, and settling what was found: shared by the sensor, the trigger
operator and the trigger.

Only :func:`fetch_reports` does I/O (sync, for poke mode); the trigger has its async twin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.exceptions import AEPError, AEPFlowRunFailedError
from airflow_provider_aep.flow_runs.interpretation import (
    FlowRunReport,
    FlowRunVerdict,
    epoch_seconds,
    interpret_runs,
    interpret_window,
    read_flow_run,
)

if TYPE_CHECKING:
    import logging

    from airflow_provider_aep.flow_runs.report import QualityGate, RunReport
    from airflow_provider_aep.hooks.aep import AEPHook


TIMEOUT_EVENT = "timeout"


@dataclass(frozen=True)
class WaitTarget:
    """What a wait is for: given runs, or the runs of a dataflow that cover a data window.

    :param run_ids: the runs, by id.
    :param flow_id: the dataflow (window mode).
    :param window: ``(start, end)`` in epoch seconds (window mode).
    """

    run_ids: tuple[str, ...] = ()
    flow_id: str | None = None
    window: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not self.run_ids and (self.flow_id is None or self.window is None):
            raise ValueError("wait for run ids, or for a flow id with a window")

    @property
    def by_window(self) -> bool:
        """Whether the runs are found by dataflow and window rather than named."""
        return not self.run_ids

    def list_query(self) -> list[tuple[str, str]] | None:
        """The ``GET /runs`` query of window mode (``None`` when the runs are named)."""
        if self.window is None or self.flow_id is None or not self.by_window:
            return None
        return runs_query(self.flow_id)

    def describe(self) -> str:
        if self.window is None or not self.by_window:
            return f"AEP flow run(s) {', '.join(self.run_ids)}"
        return f"runs of AEP dataflow {self.flow_id} over [{self.window[0]}, {self.window[1]})"

    def verdict(
        self, reports: Sequence[FlowRunReport], allow_partial_success: bool = False
    ) -> FlowRunVerdict:
        """The interpretation of what was fetched for this target."""
        if self.window is None or not self.by_window:
            return interpret_runs(reports, allow_partial_success)
        return interpret_window(reports, self.window[0], self.window[1], allow_partial_success)


def to_epoch_seconds(value: object, what: str) -> int:
    """Epoch seconds from a datetime, a number (seconds or ms), a string of digits or an ISO date.

    :param value: the value, e.g. a rendered ``{{ data_interval_start }}``.
    :param what: the argument name, for the error message.
    """
    import datetime

    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what} {value!r} has no time zone")
        return int(value.timestamp())
    seconds = epoch_seconds(value)
    if seconds is not None:
        return seconds
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return to_epoch_seconds(parsed, what)
    raise ValueError(f"{what} must be a datetime, epoch seconds or an ISO 8601 date, got {value!r}")


def runs_query(flow_id: str) -> list[tuple[str, str]]:
    """Query of ``GET /runs`` for a dataflow's runs: ``property=flowId==<id>``.

    It is the run filter Adobe's documents show (help/dataflows/api/sort-and-filter.md lists ``id``,
    ``flowId`` and ``state``). Nothing narrows it by time: the documented time filter,
    ``metrics.durationSummary.startedAtUTC``, would hide runs that have not started yet (a run just
    asked for, whose answer may have been lost), and ``createdAt`` is not shown as a run filter.
    Pages are followed to the end, so the cost grows with the dataflow's number of runs.
    """
    from airflow_provider_aep.hooks.paging import property_filter

    return [("property", property_filter("flowId", flow_id))]


def matching_window(
    reports: Iterable[FlowRunReport], window_start: int, window_end: int
) -> list[FlowRunReport]:
    """The runs that show exactly this window (see ``read_flow_run`` for where a run shows it)."""
    return [r for r in reports if r.window_start == window_start and r.window_end == window_end]


def fetch_reports(hook: AEPHook, target: WaitTarget) -> list[FlowRunReport]:
    """One look at the target's runs through the sync hook (poke mode)."""
    query = target.list_query()
    if query is None:
        return [read_flow_run(hook.get_item("flowservice", f"/runs/{run_id}")) for run_id in target.run_ids]
    return [read_flow_run(item) for item in hook.iter_items("flowservice", "/runs", params=query)]


def settle(
    verdict: FlowRunVerdict,
    log: logging.Logger | Any,
    *,
    hook: AEPHook | None = None,
    context: Mapping[str, Any] | None = None,
    gate: QualityGate | None = None,
) -> RunReport:
    """End a wait: report what landed, then fail closed.

    Builds the :class:`~airflow_provider_aep.flow_runs.report.RunReport` of the verdict's runs (with
    the Catalog batches they wrote, read through ``hook``), logs it and pushes it as the
    ``run_report`` XCom; raises :class:`AEPFlowRunFailedError` for a failed verdict, and
    :class:`~airflow_provider_aep.exceptions.AEPDroppedRowsError` when successful runs dropped more
    rows than ``gate`` tolerates (by default: none), after logging the first failed rows.
    """
    from airflow_provider_aep.exceptions import AEPDroppedRowsError
    from airflow_provider_aep.flow_runs.report import QualityGate, build_report, fetch_batches

    batches = []
    if hook is not None and not verdict.failed and any(report.batch_ids for report in verdict.reports):
        try:
            batches = fetch_batches(hook, verdict.reports)
        except AEPError as exc:  # the run-level counts still decide the gate
            log.warning("Could not read the batches the runs wrote: %s", exc)
    report = build_report(verdict.reports, batches)
    if verdict.reports:
        log.info("%s", report.summary())
    ti = (context or {}).get("ti")
    if ti is not None and verdict.reports:
        ti.xcom_push(key="run_report", value=report.to_xcom())
    if verdict.failed:
        raise AEPFlowRunFailedError(verdict.message)
    if verdict.warning:
        log.warning("%s", verdict.warning)
    log.info("%s", verdict.message)
    problem = (gate or QualityGate()).violation(report)
    if problem:
        if hook is not None:
            log_failed_rows(hook, report, log)
        raise AEPDroppedRowsError(problem)
    return report


#: Failed rows logged when the quality gate fails.
FAILED_ROWS_LOGGED = 10


def log_failed_rows(hook: AEPHook, report: RunReport, log: logging.Logger | Any) -> None:
    """Log the first failed rows of the report's batches (error diagnostics), never failing for it."""
    batch_ids = [batch.batch_id for batch in report.batches]
    if not batch_ids:
        return
    from airflow_provider_aep.flow_runs.diagnostics import failed_rows

    try:
        rows = failed_rows(hook, batch_ids, FAILED_ROWS_LOGGED)
    except AEPError as exc:
        log.warning("Could not read the failed rows: %s", exc)
        return
    for row in rows:
        log.error("Failed row: %s", row)


@dataclass(frozen=True)
class TriggerOutcome:
    """What a trigger event says: ``finished`` with the runs' last state, ``timeout`` or ``error``.

    :param status: ``finished``, ``timeout`` or ``error``.
    :param reports: the last state seen of each run.
    :param message: the error message of an ``error`` event.
    """

    status: str
    reports: tuple[FlowRunReport, ...]
    message: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None) -> TriggerOutcome:
        """Read an event of ``AEPFlowRunTrigger``; anything else is an error (fail closed)."""
        if not isinstance(event, Mapping) or event.get("status") not in ("finished", TIMEOUT_EVENT, "error"):
            raise AEPError(f"unexpected event from AEPFlowRunTrigger: {event!r}")
        reports = tuple(FlowRunReport.from_event(run) for run in event.get("runs") or ())
        return cls(str(event["status"]), reports, event.get("message"))

    def raise_if_error(self) -> None:
        if self.status == "error":
            raise AEPError(f"AEP refused to report on the flow run: {self.message}")


def resolve_window(start: object, end: object, context: Mapping[str, Any]) -> tuple[int, int]:
    """The data window in epoch seconds, however the DAG run was started.

    1. ``start``/``end`` when given (datetime, epoch seconds or ISO date);
    2. else the DAG run's data interval, when it has a non-empty one (scheduled runs, backfills, and
       manual runs with a logical date under an interval timetable);
    3. else the last full UTC day before the run: ``[midnight - 1 day, midnight)`` where midnight
       starts the day of the run's logical date, or of ``run_after`` when it has none. That is what a
       run triggered from the CLI or the REST API without a logical date ingests (Airflow 3 gives it
       no data interval), and a manual run of a timetable whose intervals are empty.

    A bound given alone is completed from the same rule.

    :param start: window start or ``None``/empty.
    :param end: window end or ``None``/empty.
    :param context: the task context.
    """
    from airflow_provider_aep.exceptions import AEPConfigError

    given_start, given_end = start not in (None, ""), end not in (None, "")
    default_start, default_end = (0, 0) if given_start and given_end else default_window(context)
    try:
        window = (
            to_epoch_seconds(start, "window_start") if given_start else default_start,
            to_epoch_seconds(end, "window_end") if given_end else default_end,
        )
    except ValueError as exc:
        raise AEPConfigError(str(exc)) from None
    if window[1] <= window[0]:
        raise AEPConfigError(
            f"empty data window [{window[0]}, {window[1]}): window_end must be after window_start"
        )
    return window


def default_window(context: Mapping[str, Any]) -> tuple[int, int]:
    """The window of a DAG run when none is given: its data interval, else the last full UTC day.

    See :func:`resolve_window` for the rule.
    """
    import datetime

    from airflow_provider_aep.exceptions import AEPConfigError

    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if isinstance(start, datetime.datetime) and isinstance(end, datetime.datetime) and end > start:
        return to_epoch_seconds(start, "data_interval_start"), to_epoch_seconds(end, "data_interval_end")
    dag_run = context.get("dag_run")
    moment = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    moment = moment or getattr(dag_run, "run_after", None)
    if not isinstance(moment, datetime.datetime):
        raise AEPConfigError(
            "no data window: this DAG run has no data interval, logical date or run_after; "
            "pass window_start and window_end"
        )
    midnight = int(moment.timestamp()) // 86400 * 86400
    return midnight - 86400, midnight


def push_run_ids(
    context: Mapping[str, Any],
    target: WaitTarget,
    reports: Sequence[FlowRunReport],
    pushed: dict[str, Any] | None = None,
) -> None:
    """Push the XCom keys ``AEPFlowRunLink`` is built from: ``flow_run_id`` (the latest run) and
    ``flow_id``, each only once known, and note them on the running task (``context["task"]``).

    :param pushed: what this task instance pushed before (updated here): a value already pushed is
        not pushed again, so a sensor's pokes push each id once (an XCom push is a call to Airflow's
        API server), not at every poke.
    """
    from airflow_provider_aep.links import remember_link_ids

    run_id = target.run_ids[0] if target.run_ids else (reports[-1].run_id if reports else None)
    flow_id = target.flow_id or next((r.flow_id for r in reports if r.flow_id), None)
    ti = context.get("ti")
    for key, value in (("flow_run_id", run_id), ("flow_id", flow_id)):
        if value and ti is not None and (pushed is None or pushed.get(key) != value):
            ti.xcom_push(key=key, value=value)
            if pushed is not None:
                pushed[key] = value
    remember_link_ids(context.get("task"), {"flow_run_id": run_id, "flow_id": flow_id})
