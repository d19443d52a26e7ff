"""What landed: the run report a wait ends with, and the quality gate on dropped rows.

AEP calls a flow run ``success`` even when it dropped rows: Adobe's run monitoring example
(help/sources/tutorials/api/monitor.md) shows ``status: success`` with ``failedRecordCount: 1``, and a
Catalog batch keeps ``status: success`` while listing row errors (help/ingestion/quality/
error-diagnostics.md). So a wait that ends in success still reads the record counts of its runs and
the batches they wrote, reports them (:class:`RunReport`), and fails closed on dropped rows unless the
task says how many to tolerate (:class:`QualityGate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.flow_runs.interpretation import FlowRunReport, json_number, json_object

if TYPE_CHECKING:
    from airflow_provider_aep.hooks.aep import AEPHook

#: Error codes listed in a report or a gate message before "(+N more)".
MAX_CODES = 8


@dataclass(frozen=True)
class BatchSummary:
    """A Catalog batch a run wrote, as ``GET /batches/{id}`` reads it.

    :param batch_id: the batch id.
    :param status: Catalog's batch status (``success``, ``failed``...).
    :param failed_records: ``metrics.failedRecordCount``.
    :param error_codes: the codes of its ``errors``.
    :param partial_ingestion_percent: the ``acp_partialIngestionPercent`` tag: the share of rows AEP
        was told it may drop (help/ingestion/batch-ingestion/partial.md), ``None`` when not set.
    """

    batch_id: str
    status: str | None = None
    failed_records: int | None = None
    error_codes: tuple[str, ...] = ()
    partial_ingestion_percent: float | None = None

    @classmethod
    def read(cls, item: Mapping[str, Any]) -> BatchSummary:
        metrics = json_object(item.get("metrics"))
        tags = json_object(item.get("tags"))
        percent = json_number(tags.get("acp_partialIngestionPercent"))
        return cls(
            batch_id=str(item.get("id") or ""),
            status=None if item.get("status") is None else str(item.get("status")),
            failed_records=_int(metrics.get("failedRecordCount")),
            error_codes=tuple(
                str(error.get("code"))
                for error in item.get("errors") or ()
                if isinstance(error, Mapping) and error.get("code")
            ),
            partial_ingestion_percent=percent,
        )


@dataclass(frozen=True)
class RunReport:
    """One readable account of the runs a wait was about.

    :param run_ids: the runs.
    :param flow_id: their dataflow.
    :param statuses: each run's status as AEP sent it.
    :param records_read: ``inputRecordCount`` over the runs.
    :param records_written: ``outputRecordCount`` over the runs.
    :param records_failed: ``failedRecordCount`` over the runs.
    :param duration_seconds: from the first start to the last completion, when known.
    :param window: the data window ``(start, end)`` in epoch seconds, when the runs show one.
    :param error_codes: each error code once, with how many times the runs reported it.
    :param errors: the first message of each code, with where it came from.
    :param batches: the Catalog batches the runs wrote.
    """

    run_ids: tuple[str, ...]
    flow_id: str | None
    statuses: tuple[str | None, ...]
    records_read: int
    records_written: int
    records_failed: int
    duration_seconds: float | None
    window: tuple[int, int] | None
    error_codes: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    batches: tuple[BatchSummary, ...] = ()

    @property
    def failed_ratio(self) -> float:
        """Dropped records over records read (0 when nothing was read)."""
        return self.records_failed / self.records_read if self.records_read else 0.0

    def to_xcom(self) -> dict[str, Any]:
        """A JSON-safe dict, pushed as the ``run_report`` XCom."""
        return {
            "run_ids": list(self.run_ids),
            "flow_id": self.flow_id,
            "statuses": list(self.statuses),
            "records": {
                "read": self.records_read,
                "written": self.records_written,
                "failed": self.records_failed,
            },
            "failed_ratio": round(self.failed_ratio, 6),
            "duration_seconds": self.duration_seconds,
            "window": list(self.window) if self.window else None,
            "error_codes": dict(self.error_codes),
            "errors": list(self.errors),
            "batches": [
                {
                    "id": batch.batch_id,
                    "status": batch.status,
                    "failed_records": batch.failed_records,
                    "error_codes": list(batch.error_codes),
                    "partial_ingestion_percent": batch.partial_ingestion_percent,
                }
                for batch in self.batches
            ],
        }

    def summary(self) -> str:
        """Several readable lines: runs, records, duration, window, errors and batches."""
        runs = zip(self.run_ids, self.statuses, strict=True)
        lines = [
            f"AEP flow run report: {len(self.run_ids)} run(s) of dataflow {self.flow_id or '?'}: "
            + ", ".join(f"{run} ({status or 'no status'})" for run, status in runs)
        ]
        lines.append(
            f"  records: {self.records_read} read, {self.records_written} written, "
            f"{self.records_failed} failed ({self.failed_ratio:.2%})"
        )
        if self.duration_seconds is not None:
            lines.append(f"  duration: {self.duration_seconds:.1f} s")
        if self.window:
            lines.append(f"  window: [{self.window[0]}, {self.window[1]}) epoch seconds")
        if self.errors:
            lines.append(f"  errors: {describe_codes(self.error_codes)}")
            lines.extend(f"    {error}" for error in self.errors[:MAX_CODES])
        for batch in self.batches:
            lines.append(
                f"  batch {batch.batch_id}: {batch.status or '?'}, failed records {batch.failed_records}"
                + (f", errors {', '.join(batch.error_codes)}" if batch.error_codes else "")
            )
        return "\n".join(lines)


def build_report(runs: Sequence[FlowRunReport], batches: Iterable[BatchSummary] = ()) -> RunReport:
    """The report of the runs a wait ended with, and the batches they wrote."""
    codes: dict[str, int] = {}
    first_messages: dict[str, str] = {}
    for run in runs:
        for error in run.errors:
            code = error.code or "no code"
            codes[code] = codes.get(code, 0) + 1
            first_messages.setdefault(code, error.describe())
    starts = [run.started_at_ms for run in runs if run.started_at_ms is not None]
    ends = [run.completed_at_ms for run in runs if run.completed_at_ms is not None]
    windows = [(run.window_start, run.window_end) for run in runs]
    known = [(start, end) for start, end in windows if start is not None and end is not None]
    return RunReport(
        run_ids=tuple(run.run_id for run in runs),
        flow_id=next((run.flow_id for run in runs if run.flow_id), None),
        statuses=tuple(run.raw_status for run in runs),
        records_read=sum(run.records.get("inputRecordCount", 0) for run in runs),
        records_written=sum(run.records.get("outputRecordCount", 0) for run in runs),
        records_failed=sum(run.records.get("failedRecordCount", 0) for run in runs),
        duration_seconds=(max(ends) - min(starts)) / 1000 if starts and ends else None,
        window=(min(s for s, _ in known), max(e for _, e in known)) if known else None,
        error_codes=codes,
        errors=tuple(first_messages.values()),
        batches=tuple(batches),
    )


def fetch_batches(hook: AEPHook, runs: Sequence[FlowRunReport]) -> list[BatchSummary]:
    """Catalog's ``GET /batches/{id}`` for each batch the runs wrote."""
    batch_ids = dict.fromkeys(batch for run in runs for batch in run.batch_ids)
    return [BatchSummary.read(hook.get_item("catalog", f"/batches/{batch}")) for batch in batch_ids]


def describe_codes(codes: Mapping[str, int]) -> str:
    """``CODE (xN), ...`` for the first :data:`MAX_CODES` codes."""
    shown = [f"{code} (x{count})" if count > 1 else code for code, count in list(codes.items())[:MAX_CODES]]
    more = len(codes) - MAX_CODES
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


@dataclass(frozen=True)
class QualityGate:
    """How many dropped rows a task tolerates in runs AEP calls successful.

    With no threshold, no dropped row is tolerated, except what the dataflow itself allows: when the
    runs' batches carry a partial-ingestion threshold (``acp_partialIngestionPercent``), AEP was told
    to accept that share of bad rows, and the gate does not contradict it. A threshold given here
    wins; with both, a run must be within both.

    :param max_failed_records: dropped records tolerated (over the runs of the wait).
    :param max_failed_ratio: dropped records over records read tolerated, from 0 to 1.
    :param tolerate_all: accept every dropped row (``allow_partial_success=True`` with no threshold).
    """

    max_failed_records: int | None = None
    max_failed_ratio: float | None = None
    tolerate_all: bool = False

    def __post_init__(self) -> None:
        from airflow_provider_aep.exceptions import AEPConfigError

        records = self.max_failed_records
        if records is not None and (isinstance(records, bool) or not isinstance(records, int) or records < 0):
            raise AEPConfigError(f"max_failed_records: must be a whole number >= 0, got {records!r}")
        ratio = self.max_failed_ratio
        if ratio is not None and (
            isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1
        ):
            raise AEPConfigError(f"max_failed_ratio: must be a number from 0 to 1, got {ratio!r}")

    @classmethod
    def for_task(
        cls, max_failed_records: int | None, max_failed_ratio: float | None, allow_partial_success: bool
    ) -> QualityGate:
        """The gate of a wait's arguments: ``allow_partial_success`` with no threshold accepts every
        dropped row (the run said "partly"; the task said it accepts that)."""
        no_threshold = max_failed_records is None and max_failed_ratio is None
        return cls(max_failed_records, max_failed_ratio, tolerate_all=allow_partial_success and no_threshold)

    def violation(self, report: RunReport) -> str | None:
        """Why the report fails the gate, or ``None`` when it passes."""
        failed = report.records_failed
        if failed == 0 or self.tolerate_all:
            return None
        records, ratio, source = self.max_failed_records, self.max_failed_ratio, "task"
        if records is None and ratio is None:
            percents = [b.partial_ingestion_percent for b in report.batches if b.partial_ingestion_percent]
            if percents:
                ratio, source = min(percents) / 100, "dataflow's partial ingestion"
        within = (records is None or failed <= records) and (ratio is None or report.failed_ratio <= ratio)
        if (records is not None or ratio is not None) and within:
            return None
        limits = [f"max_failed_records={records}"] if records is not None else []
        limits += [f"max_failed_ratio={ratio:g} ({source})"] if ratio is not None else []
        said = f"over {' and '.join(limits)}" if limits else "and no dropped row is tolerated by default"
        codes = describe_codes(report.error_codes) or "no error code reported"
        return (
            f"AEP flow run(s) {', '.join(report.run_ids)} succeeded but dropped {failed} of "
            f"{report.records_read} records ({report.failed_ratio:.2%}), {said}; errors: {codes}. "
            f"To accept this, set max_failed_records={failed} or max_failed_ratio="
            f"{_ceil_ratio(report.failed_ratio)} on the task."
        )


def _ceil_ratio(ratio: float) -> str:
    """The smallest 4-decimal ratio at or above ``ratio``."""
    import math

    return f"{math.ceil(ratio * 10_000) / 10_000:g}"


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
