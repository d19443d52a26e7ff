"""Progress of a long wait: a line with the runs' status and records so far, every few polls.

Shared by the three ways of waiting (the run operator's loop, the sensor's pokes, the trigger in the
triggerer), so a wait that lasts hours says where it is without logging every poll: a line on the
first poll, whenever a run's status changes, and otherwise every :data:`EVERY_POLLS` polls or
:data:`EVERY_SECONDS` seconds, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from airflow_provider_aep.flow_runs.interpretation import FlowRunReport

#: A progress line at least every this many polls...
EVERY_POLLS = 10
#: ...or every this many seconds of waiting, whichever comes first.
EVERY_SECONDS = 300.0


def elapsed_text(seconds: float) -> str:
    """``42 s``, ``5 min 3 s``, ``2 h 10 min``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def records_so_far(reports: Sequence[FlowRunReport]) -> str:
    """``12 read, 10 written, 2 failed`` over the runs (their ``recordSummary`` so far)."""

    def total(name: str) -> int:
        return sum(int(report.records.get(name) or 0) for report in reports)

    return (
        f"{total('inputRecordCount')} read, {total('outputRecordCount')} written, "
        f"{total('failedRecordCount')} failed"
    )


@dataclass
class WaitProgress:
    """Decides, poll after poll, when a wait logs its progress, and writes the line.

    :param what: what is waited for (``WaitTarget.describe()``).
    :param every_polls: a line at least every this many polls.
    :param every_seconds: a line at least every this many seconds.
    :param clock: monotonic seconds (tests pass a fake clock).
    """

    what: str
    every_polls: int = EVERY_POLLS
    every_seconds: float = EVERY_SECONDS
    clock: Callable[[], float] = time.monotonic
    polls: int = 0
    started: float | None = None
    _last_line_at: float | None = field(default=None, repr=False)
    _last_line_poll: int = field(default=0, repr=False)
    _last_statuses: tuple[tuple[str, str | None], ...] = field(default=(), repr=False)

    def poll(self, reports: Sequence[FlowRunReport]) -> str | None:
        """Count one poll that found the wait still running; the line to log now, or ``None``."""
        now = self.clock()
        if self.started is None:
            self.started = now
        self.polls += 1
        statuses = tuple((report.run_id, report.raw_status) for report in reports)
        due = (
            self._last_line_at is None
            or statuses != self._last_statuses
            or self.polls - self._last_line_poll >= self.every_polls
            or now - self._last_line_at >= self.every_seconds
        )
        if not due:
            return None
        self._last_line_at, self._last_line_poll, self._last_statuses = now, self.polls, statuses
        return self.line(reports, now)

    def line(self, reports: Sequence[FlowRunReport], now: float | None = None) -> str:
        """``Still waiting for <what> (poll 10, 5 min 0 s): run r1 inProgress; records so far: ...``."""
        now = self.clock() if now is None else now
        waited = elapsed_text(now - (self.started if self.started is not None else now))
        if reports:
            runs = ", ".join(f"{run.run_id} {run.raw_status or '(no status yet)'}" for run in reports)
            state = f"run(s) {runs}; records so far: {records_so_far(reports)}"
        else:
            state = "no run yet"
        return f"Still waiting for {self.what} (poll {self.polls}, {waited}): {state}"
