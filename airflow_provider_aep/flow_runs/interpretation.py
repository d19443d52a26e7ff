"""How to read an AEP flow run and what it means: no I/O, shared by poke and deferrable modes.

Adobe's documents disagree on how a run reports its state (``success`` in the run guides, ``Failed`` in
a filter example, ``PARTIAL_SUCCESS`` in the action enum...). Everything here reads them all and
reaches ONE verdict per run, failing closed: only a status known to mean success is a success.

* :class:`AEPFlowRunStatus` names every documented status and parses any spelling of it.
* :func:`read_flow_run` turns a ``FlowRunItemDTO`` into a :class:`FlowRunReport`.
* :func:`interpret` gives the :class:`FlowRunVerdict` of one run, :func:`interpret_window` of the
  runs that cover a data window.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Epoch values above this are milliseconds (Adobe documents run times in both units).
_MILLISECONDS_THRESHOLD = 100_000_000_000
_MAX_ERRORS_IN_MESSAGE = 5
_MAX_ERROR_MESSAGE = 200


class AEPFlowRunStatus(str, enum.Enum):
    """Every flow-run status found in Adobe's documents.

    The run guides use ``scheduled``, ``inProgress``, ``success``, ``partialSuccess`` and ``failed``;
    the action enum of the Flow Service spec uses ``QUEUED``, ``IN_PROGRESS``, ``COMPLETED``,
    ``SUCCESS``, ``PARTIAL_SUCCESS``, ``PARTIAL_FAILURE``, ``FAILED``. :meth:`parse` matches any of
    these case-insensitively, ignoring ``_``, so ``PARTIAL_SUCCESS`` is ``partialSuccess``.
    """

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partialSuccess"
    PARTIAL_FAILURE = "partialFailure"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: object) -> AEPFlowRunStatus | None:
        """The status spelled by ``value``, or ``None`` if it is not one Adobe documents."""
        if not isinstance(value, str):
            return None
        return _BY_KEY.get(_status_key(value))


def _status_key(value: str) -> str:
    return value.strip().replace("_", "").replace("-", "").replace(" ", "").lower()


_BY_KEY = {_status_key(status.value): status for status in AEPFlowRunStatus}

RUNNING_STATUSES = frozenset(
    {AEPFlowRunStatus.SCHEDULED, AEPFlowRunStatus.QUEUED, AEPFlowRunStatus.IN_PROGRESS}
)
PARTIAL_STATUSES = frozenset({AEPFlowRunStatus.PARTIAL_SUCCESS, AEPFlowRunStatus.PARTIAL_FAILURE})


class Outcome(str, enum.Enum):
    """The one interpretation of a run: ``success``, ``failure``, ``running`` or ``unknown``.

    ``unknown`` (a status Adobe does not document) is final and fails, like ``failure``.
    """

    SUCCESS = "success"
    FAILURE = "failure"
    RUNNING = "running"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RunError:
    """One error a run reported: its AEP code, message and where (``run`` or an activity name)."""

    code: str | None
    message: str | None
    source: str = "run"

    def describe(self) -> str:
        text = (self.message or "").strip()
        if len(text) > _MAX_ERROR_MESSAGE:
            text = text[: _MAX_ERROR_MESSAGE - 3] + "..."
        where = "" if self.source == "run" else f" [{self.source}]"
        head = self.code or "no code"
        return f"{head}{where}: {text}" if text else f"{head}{where}"


@dataclass(frozen=True)
class FlowRunReport:
    """What a flow run says about itself, read leniently from a ``FlowRunItemDTO``.

    :param run_id: the run id.
    :param flow_id: the dataflow the run belongs to.
    :param raw_status: ``metrics.statusSummary.status`` exactly as AEP sent it (``None`` if absent).
    :param errors: run-level errors, then each activity's errors.
    :param records: ``metrics.recordSummary`` counts (``inputRecordCount``, ``failedRecordCount``...).
    :param started_at_ms: ``metrics.durationSummary.startedAtUTC`` in epoch milliseconds.
    :param completed_at_ms: ``metrics.durationSummary.completedAtUTC`` in epoch milliseconds.
    :param window_start: the data window's start in epoch seconds, when the run shows one (see
        :func:`read_flow_run` for where).
    :param window_end: the data window's end in epoch seconds, when the run shows one.
    :param created_at_ms: ``createdAt`` in epoch milliseconds.
    :param batch_ids: the Catalog batches the run wrote: ``activities[].targetInfo[].reference.ids`` where
        the reference ``type`` is ``Batch`` (help/sources/tutorials/api/monitor.md).
    """

    run_id: str
    flow_id: str | None = None
    raw_status: str | None = None
    errors: tuple[RunError, ...] = ()
    records: Mapping[str, int] = field(default_factory=dict)
    started_at_ms: int | None = None
    completed_at_ms: int | None = None
    window_start: int | None = None
    window_end: int | None = None
    created_at_ms: int | None = None
    batch_ids: tuple[str, ...] = ()

    @property
    def status(self) -> AEPFlowRunStatus | None:
        """The documented status, or ``None`` when AEP sent none or one it does not document."""
        return AEPFlowRunStatus.parse(self.raw_status)

    def to_event(self) -> dict[str, Any]:
        """A JSON-safe dict (for a trigger event); :meth:`from_event` reads it back."""
        return {
            "run_id": self.run_id,
            "flow_id": self.flow_id,
            "raw_status": self.raw_status,
            "errors": [[e.code, e.message, e.source] for e in self.errors],
            "records": dict(self.records),
            "started_at_ms": self.started_at_ms,
            "completed_at_ms": self.completed_at_ms,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "created_at_ms": self.created_at_ms,
            "batch_ids": list(self.batch_ids),
        }

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> FlowRunReport:
        return cls(
            run_id=str(data["run_id"]),
            flow_id=data.get("flow_id"),
            raw_status=data.get("raw_status"),
            errors=tuple(RunError(*entry) for entry in data.get("errors") or ()),
            records=dict(data.get("records") or {}),
            started_at_ms=data.get("started_at_ms"),
            completed_at_ms=data.get("completed_at_ms"),
            window_start=data.get("window_start"),
            window_end=data.get("window_end"),
            created_at_ms=data.get("created_at_ms"),
            batch_ids=tuple(str(batch) for batch in data.get("batch_ids") or ()),
        )

    def describe(self) -> str:
        """One line: run id, status, error codes and messages, record counts."""
        parts = [f"AEP flow run {self.run_id} status {self.raw_status or '(none)'}"]
        if self.errors:
            shown = "; ".join(error.describe() for error in self.errors[:_MAX_ERRORS_IN_MESSAGE])
            more = len(self.errors) - _MAX_ERRORS_IN_MESSAGE
            parts.append(f"errors: {shown}" + (f" (+{more} more)" if more > 0 else ""))
        if self.records:
            counts = ", ".join(f"{name} {count}" for name, count in self.records.items())
            parts.append(f"records: {counts}")
        return "; ".join(parts)


@dataclass(frozen=True)
class FlowRunVerdict:
    """The interpretation of one run or of a window's runs.

    :param outcome: success, failure, running or unknown.
    :param message: why, with run ids, statuses, error codes and messages, and record counts.
    :param reports: the runs the verdict is about.
    :param warning: set when the verdict is success but a run carried errors worth logging.
    """

    outcome: Outcome
    message: str
    reports: tuple[FlowRunReport, ...] = ()
    warning: str | None = None

    @property
    def finished(self) -> bool:
        """Whether waiting longer cannot change the verdict."""
        return self.outcome is not Outcome.RUNNING

    @property
    def failed(self) -> bool:
        """Whether the task must fail: a failure, or a status nobody documents (fail closed)."""
        return self.outcome in (Outcome.FAILURE, Outcome.UNKNOWN)


def read_flow_run(item: Mapping[str, Any]) -> FlowRunReport:
    """Read a run item (``GET /runs/{id}`` unwrapped, a list entry, or a whole-run ``POST`` answer)."""
    metrics = json_object(item.get("metrics"))
    status_summary = json_object(metrics.get("statusSummary"))
    errors = [*_read_errors(status_summary, "run"), *_read_errors(item, "run")]
    # the spec spells the list ``activites``; the guides and AEP itself say ``activities``
    for key in ("activities", "activites"):
        for activity in _sequence(item.get(key)):
            if isinstance(activity, Mapping):
                name = str(activity.get("name") or activity.get("id") or "activity")
                errors.extend(_read_errors(json_object(activity.get("statusSummary")), name))
                errors.extend(_read_errors(activity, name))
    durations = json_object(metrics.get("durationSummary"))
    window_start, window_end = _read_window(item)
    return FlowRunReport(
        run_id=str(item.get("id") or ""),
        flow_id=_text(item.get("flowId")),
        raw_status=_text(status_summary.get("status")),
        errors=tuple(dict.fromkeys(errors)),  # the same error may be listed at two levels
        records={
            name: int(count)
            for name, count in json_object(metrics.get("recordSummary")).items()
            if isinstance(count, int | float) and not isinstance(count, bool)
        },
        started_at_ms=_epoch_ms(durations.get("startedAtUTC")),
        completed_at_ms=_epoch_ms(durations.get("completedAtUTC")),
        window_start=window_start,
        window_end=window_end,
        created_at_ms=_epoch_ms(item.get("createdAt")),
        batch_ids=_read_batch_ids(item),
    )


def _read_batch_ids(item: Mapping[str, Any]) -> tuple[str, ...]:
    """The ids of the Catalog batches a run wrote (each once, in the order the run lists them)."""
    found: list[str] = []
    for key in ("activities", "activites"):
        for activity in _sequence(item.get(key)):
            for target in _sequence(json_object(activity).get("targetInfo")):
                reference = json_object(json_object(target).get("reference"))
                if str(reference.get("type") or "").lower() == "batch":
                    found.extend(str(batch) for batch in _sequence(reference.get("ids")) if batch)
    return tuple(dict.fromkeys(found))


def _read_window(item: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """A run's data window in epoch seconds, wherever the run shows it.

    Adobe's run monitoring example (help/sources/tutorials/api/monitor.md) shows it only in the copy
    activity's ``durationSummary.extensions.windowStart/windowEnd`` (epoch ms); the draft
    create-flow-runs page echoes the ``params.windowStartTime/windowEndTime`` of ``POST /runs``
    (epoch seconds, possibly as strings). The activity wins; a run that shows neither has no window.
    """
    for key in ("activities", "activites"):
        for activity in _sequence(item.get(key)):
            if isinstance(activity, Mapping):
                extensions = json_object(json_object(activity.get("durationSummary")).get("extensions"))
                start, end = (
                    json_number(extensions.get("windowStart")),
                    json_number(extensions.get("windowEnd")),
                )
                if start is not None and end is not None:  # always epoch milliseconds there
                    return int(start // 1000), int(end // 1000)
    params = json_object(item.get("params"))
    start, end = epoch_seconds(params.get("windowStartTime")), epoch_seconds(params.get("windowEndTime"))
    return (start, end) if start is not None and end is not None else (None, None)


def interpret(report: FlowRunReport, allow_partial_success: bool = False) -> FlowRunVerdict:
    """The verdict on one run, failing closed.

    :param report: the run.
    :param allow_partial_success: accept ``partialSuccess``/``PARTIAL_FAILURE`` (some records failed).
    """
    status = report.status
    described = report.describe()
    if report.raw_status is None or status in RUNNING_STATUSES:
        return FlowRunVerdict(Outcome.RUNNING, f"{described}: still running", (report,))
    if status is AEPFlowRunStatus.SUCCESS:
        warning = f"{described}: succeeded with errors" if report.errors else None
        return FlowRunVerdict(Outcome.SUCCESS, f"{described}: succeeded", (report,), warning)
    if status in PARTIAL_STATUSES:
        if allow_partial_success:
            return FlowRunVerdict(
                Outcome.SUCCESS, f"{described}: partly succeeded", (report,), f"{described}: partial"
            )
        return FlowRunVerdict(
            Outcome.FAILURE,
            f"{described}: only partly succeeded (set allow_partial_success=True to accept)",
            (report,),
        )
    if status is AEPFlowRunStatus.FAILED:
        return FlowRunVerdict(Outcome.FAILURE, f"{described}: failed", (report,))
    if status is AEPFlowRunStatus.COMPLETED:
        # COMPLETED says the run ended, not that it succeeded: fail closed
        return FlowRunVerdict(Outcome.FAILURE, f"{described}: ended without reporting success", (report,))
    return FlowRunVerdict(
        Outcome.UNKNOWN,
        f"{described}: unknown status {report.raw_status!r}, not a known success",
        (report,),
    )


def interpret_runs(reports: Sequence[FlowRunReport], allow_partial_success: bool = False) -> FlowRunVerdict:
    """The verdict on given runs: failed if one failed, running while one runs, else success.

    :param reports: the runs (at least one).
    :param allow_partial_success: accept partly successful runs.
    """
    verdicts = [interpret(report, allow_partial_success) for report in reports]
    if len(verdicts) == 1:
        return verdicts[0]
    bad = [v for v in verdicts if v.failed]
    if bad:
        outcome = Outcome.UNKNOWN if all(v.outcome is Outcome.UNKNOWN for v in bad) else Outcome.FAILURE
        return FlowRunVerdict(outcome, " | ".join(v.message for v in bad), tuple(reports))
    if not verdicts or any(v.outcome is Outcome.RUNNING for v in verdicts):
        running = [v.message for v in verdicts if v.outcome is Outcome.RUNNING]
        return FlowRunVerdict(Outcome.RUNNING, " | ".join(running) or "no run seen", tuple(reports))
    warnings = [v.warning for v in verdicts if v.warning]
    return FlowRunVerdict(
        Outcome.SUCCESS,
        " | ".join(v.message for v in verdicts),
        tuple(reports),
        " | ".join(warnings) or None,
    )


def run_time(report: FlowRunReport) -> float | None:
    """When a run without a window took its data, epoch seconds: its ``createdAt``, else its start."""
    moment = report.created_at_ms or report.started_at_ms
    return None if moment is None else moment / 1000


def covers(report: FlowRunReport, window_start: int, window_end: int) -> bool:
    """Whether a run may hold data of the window ``[window_start, window_end)`` (epoch seconds).

    A run that shows its window covers the data window when the two overlap. A run that shows none
    (an incremental scheduled run ingests what arrived since the run before it) may hold data of the
    window when it ran after the window began; :func:`covering_runs` then keeps only those up to
    the first one that ran at or after the window's end.
    """
    if report.window_start is not None and report.window_end is not None:
        return report.window_start < window_end and report.window_end > window_start
    moment = run_time(report)
    return moment is not None and moment > window_start


def reaches_end(report: FlowRunReport, window_end: int) -> bool:
    """Whether the run holds data up to ``window_end``, so no later run is needed for the window.

    With a window: its end is at or after ``window_end``; without: it ran at or after ``window_end``.
    """
    if report.window_start is not None and report.window_end is not None:
        return report.window_end >= window_end
    moment = run_time(report)
    return moment is not None and moment >= window_end


def covering_runs(
    reports: Iterable[FlowRunReport], window_start: int, window_end: int
) -> list[FlowRunReport]:
    """The runs that hold data of the window, in order.

    Runs with a window: every one that overlaps it. Runs without: every one that ran after the window
    began, up to and including the first that ran at or after its end (the ones after that hold
    later data only).
    """
    windowed = [
        r
        for r in reports
        if r.window_start is not None and r.window_end is not None and covers(r, window_start, window_end)
    ]
    timed = sorted(
        (
            r
            for r in reports
            if (r.window_start is None or r.window_end is None) and covers(r, window_start, window_end)
        ),
        key=lambda r: (run_time(r) or 0, r.run_id),
    )
    closing = next((r for r in timed if reaches_end(r, window_end)), None)
    if closing is not None:
        timed = timed[: timed.index(closing) + 1]
    windowed.sort(key=lambda r: (r.window_start or 0, r.created_at_ms or 0, r.run_id))
    return windowed + timed


def interpret_window(
    reports: Iterable[FlowRunReport],
    window_start: int,
    window_end: int,
    allow_partial_success: bool = False,
) -> FlowRunVerdict:
    """The verdict on the runs of a scheduled dataflow that cover a window.

    It fails as soon as one covering run failed; it succeeds when every covering run succeeded and
    together they reach the window's end; otherwise it is still running (no run yet, some running).

    :param reports: the dataflow's runs (those outside the window are ignored).
    :param window_start: window start, epoch seconds.
    :param window_end: window end, epoch seconds.
    :param allow_partial_success: accept partly successful runs.
    """
    covering = covering_runs(reports, window_start, window_end)
    verdicts = [interpret(report, allow_partial_success) for report in covering]
    window = f"window [{window_start}, {window_end})"
    bad = [v for v in verdicts if v.failed]
    if bad:
        outcome = Outcome.UNKNOWN if all(v.outcome is Outcome.UNKNOWN for v in bad) else Outcome.FAILURE
        return FlowRunVerdict(
            outcome,
            f"{len(bad)} of {len(covering)} runs of {window} did not succeed: "
            + " | ".join(v.message for v in bad),
            tuple(covering),
        )
    if not covering:
        return FlowRunVerdict(Outcome.RUNNING, f"no run covers {window} yet")
    if any(v.outcome is Outcome.RUNNING for v in verdicts) or not any(
        reaches_end(r, window_end) for r in covering
    ):
        running = [v.reports[0].run_id for v in verdicts if v.outcome is Outcome.RUNNING]
        return FlowRunVerdict(
            Outcome.RUNNING,
            f"{window}: waiting for runs {', '.join(running) or 'up to its end'}",
            tuple(covering),
        )
    warnings = [v.warning for v in verdicts if v.warning]
    return FlowRunVerdict(
        Outcome.SUCCESS,
        f"{len(covering)} runs of {window} succeeded: {', '.join(r.run_id for r in covering)}",
        tuple(covering),
        " | ".join(warnings) or None,
    )


def timeout_message(what: str, timeout: float, last: Sequence[FlowRunReport]) -> str:
    """The failure message of a wait that ran out of time, with the last state seen."""
    seen = " | ".join(report.describe() for report in last) or "no run seen"
    return f"Timed out after {timeout:.0f} s waiting for {what}; last seen: {seen}"


def epoch_seconds(value: object) -> int | None:
    """Epoch seconds from seconds or milliseconds, as a number or a string of digits."""
    number = json_number(value)
    if number is None:
        return None
    return int(number // 1000) if number > _MILLISECONDS_THRESHOLD else int(number)


def _epoch_ms(value: object) -> int | None:
    number = json_number(value)
    if number is None:
        return None
    return int(number) if number > _MILLISECONDS_THRESHOLD else int(number * 1000)


def json_number(value: object) -> float | None:
    """A JSON number, or a string holding one, as a float; ``None`` for anything else (booleans too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _read_errors(container: Mapping[str, Any], source: str) -> list[RunError]:
    """``errors`` and ``extensions.errors`` of a status summary, an activity or a run."""
    found: list[RunError] = []
    for errors in (container.get("errors"), json_object(container.get("extensions")).get("errors")):
        for error in _sequence(errors):
            if isinstance(error, Mapping):
                found.append(RunError(_text(error.get("code")), _text(error.get("message")), source))
            elif isinstance(error, str):
                found.append(RunError(None, error, source))
    return found


def json_object(value: object) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (AEP answers are read leniently)."""
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _text(value: object) -> str | None:
    return None if value is None else str(value)
