"""``AEPFlowRunTrigger``: waits for AEP flow runs in the triggerer, without holding a worker slot.

It must live in the installed package: the triggerer imports it by class path, never from a DAG
folder (``airflow_provider_aep.triggers.flow_run`` serves it from here). It only polls and decides
when waiting is over; the operator or sensor that deferred reads the event and applies the same
interpretation as in poke mode (:mod:`airflow_provider_aep.flow_runs.interpretation`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import timedelta
from typing import Any, NoReturn, Protocol, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_aep.exceptions import (
    AEPError,
    AEPRateLimitError,
    AEPServerError,
    AEPTransportError,
)
from airflow_provider_aep.flow_runs.interpretation import FlowRunReport, read_flow_run
from airflow_provider_aep.flow_runs.pacing import PollSchedule, in_flight_slots
from airflow_provider_aep.flow_runs.waiting import WaitTarget

T = TypeVar("T")

#: Errors left after the hook's own retries that are still worth waiting out until the deadline.
TRANSIENT_ERRORS = (AEPServerError, AEPRateLimitError, AEPTransportError)

CLASS_PATH = "airflow_provider_aep.triggers.flow_run.AEPFlowRunTrigger"  # the stable public path

#: Airflow's own deferral timeout is only a backstop (a trigger that never ran): the deadline that
#: fails or skips the task properly lives in the trigger, so the backstop comes this much later.
DEFERRAL_BACKSTOP_SECONDS = 600.0


class AEPFlowRunTrigger(BaseTrigger):
    """Poll AEP flow runs until they end, fail, or the deadline passes.

    Wait either for given runs (``run_ids``) or for the runs of a dataflow that cover a data window
    (``flow_id`` + ``window_start`` + ``window_end``: AEP owns the schedule). It yields exactly one
    event, a dict with ``status``:

    * ``"finished"``: every run ended (or, for a window, one failed / all succeeded up to its end);
    * ``"timeout"``: the deadline passed first;
    * ``"error"``: AEP refused the look-up (unknown run, bad credentials...), with ``message``.

    Each event also carries ``runs``: the last state seen of each run (``FlowRunReport.to_event``),
    in window mode of each run covering the window.

    Polls keep a schedule on the wall clock, ``poll_interval`` apart, in a slot of the interval chosen
    by a stable hash of the dataflow id (window mode) or of the run ids
    (:mod:`~airflow_provider_aep.flow_runs.pacing`): the waits of a triggerer are spread over the
    interval instead of polling in lockstep, while the waits on one dataflow poll together and share
    one ``GET /runs?property=flowId==...``, and waits by run id share ``GET /runs?property=id==a,b,...``
    (:mod:`~airflow_provider_aep.flow_runs.batched_lookups`). The requests of an event loop's
    triggers in flight at once are bounded (:data:`~airflow_provider_aep.flow_runs.pacing.MAX_IN_FLIGHT`).
    The first poll comes within one interval; the last one at the deadline.
    While waiting it logs its progress (status, records so far) on its first look, when a status
    changes, and every 10 looks or 5 minutes (:mod:`~airflow_provider_aep.flow_runs.progress`).
    Calls go through :class:`~airflow_provider_aep.hooks.aep_async.AEPAsyncHook`, which shares one
    HTTP client and one IMS token per process and retries transient failures; what remains
    transient after those retries is logged and waited out until the deadline.

    :param deadline: when to give up, epoch seconds (absolute, so a triggerer restart keeps it).
    :param aep_conn_id: Airflow connection of type ``aep``.
    :param sandbox: sandbox instead of the connection's.
    :param run_ids: the runs to wait for.
    :param flow_id: the dataflow whose runs cover the window (with ``window_start``/``window_end``).
    :param window_start: window start, epoch seconds.
    :param window_end: window end, epoch seconds.
    :param poll_interval: seconds between two looks (a positive number).
    """

    def __init__(
        self,
        *,
        deadline: float,
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        run_ids: list[str] | None = None,
        flow_id: str | None = None,
        window_start: int | None = None,
        window_end: int | None = None,
        poll_interval: float = 30.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.deadline = float(deadline)
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.run_ids = list(run_ids or [])
        self.flow_id = flow_id
        self.window_start = window_start
        self.window_end = window_end
        self.poll_interval = float(poll_interval)
        window = None
        if window_start is not None and window_end is not None:
            window = (int(window_start), int(window_end))
        self.target = WaitTarget(tuple(self.run_ids), flow_id, window)
        #: When it polls: a slot of the interval chosen by what it looks up (the dataflow in window
        #: mode, else the run ids), so the waits of one dataflow poll together and share one request.
        self.schedule = PollSchedule.for_key(
            self.flow_id if self.target.by_window and self.flow_id else ",".join(self.run_ids),
            self.poll_interval,
        )
        #: When the poll in progress (or the next one) is due, epoch seconds; ``None`` before the first.
        self.due_at: float | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and kwargs: ids, connection id, sandbox, window, deadline and interval only."""
        return (
            CLASS_PATH,
            {
                "deadline": self.deadline,
                "aep_conn_id": self.aep_conn_id,
                "sandbox": self.sandbox,
                "run_ids": self.run_ids,
                "flow_id": self.flow_id,
                "window_start": self.window_start,
                "window_end": self.window_end,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll on :attr:`schedule` until the runs end or the deadline passes; yield one event."""
        from airflow_provider_aep.flow_runs.progress import WaitProgress
        from airflow_provider_aep.hooks.aep_async import AEPAsyncHook

        hook = AEPAsyncHook(self.aep_conn_id, sandbox=self.sandbox)
        last: tuple[FlowRunReport, ...] = ()
        progress = WaitProgress(self.target.describe())
        not_before = time.time()
        while True:
            self.due_at = min(self.schedule.next_due(not_before), self.deadline)
            await asyncio.sleep(max(0.0, self.due_at - time.time()))
            pause = 0.0
            try:
                verdict = self.target.verdict(await self.poll(hook))
            except TRANSIENT_ERRORS as exc:
                pause = asked_pause(exc)
                self.log.warning("Still waiting for %s: AEP did not answer (%s)", self.target.describe(), exc)
            except AEPError as exc:
                yield self._event("error", last, message=str(exc))
                return
            else:
                last = verdict.reports
                if verdict.finished:
                    yield self._event("finished", last)
                    return
                line = progress.poll(last)
                if line:
                    self.log.info("%s", line)
            now = time.time()
            if now >= self.deadline:
                yield self._event("timeout", last)
                return
            # the next slot after this one, and not before a Retry-After AEP asked for
            not_before = max(self.due_at, now + pause)

    async def poll(self, hook: Any) -> list[FlowRunReport]:
        """One look at the runs, shared with the other triggers of this event loop
        (:mod:`~airflow_provider_aep.flow_runs.batched_lookups`): by run id, or the dataflow's runs
        (all of them; :meth:`WaitTarget.verdict` keeps those covering the window)."""
        from airflow_provider_aep.flow_runs.batched_lookups import shared_lookups

        lookups = shared_lookups(
            self.aep_conn_id,
            self.sandbox,
            lambda query: _all_items(hook, query),
            lambda run_id: _bounded(hook.get_item("flowservice", f"/runs/{run_id}")),
        )
        if self.target.by_window:
            assert self.flow_id is not None
            return list(await lookups.flows.get(self.flow_id))
        items = await asyncio.gather(*(lookups.runs.get(run_id) for run_id in self.run_ids))
        return [read_flow_run(item) for item in items]

    def finished(self, reports: list[FlowRunReport]) -> bool:
        """Whether waiting longer cannot change the outcome (success or failure is settled)."""
        return self.target.verdict(reports).finished

    def _event(self, status: str, reports: Sequence[FlowRunReport], **extra: Any) -> TriggerEvent:
        payload = {
            "status": status,
            "runs": [report.to_event() for report in reports],
            "flow_id": self.flow_id,
            "run_ids": self.run_ids,
            **extra,
        }
        return TriggerEvent(payload)  # type: ignore[no-untyped-call]


def asked_pause(error: Exception) -> float:
    """Seconds AEP asked to wait (``Retry-After`` of a 429/503 left after the hook's own retries)."""
    from airflow_provider_aep.hooks._core import parse_retry_after

    return parse_retry_after(getattr(error, "retry_after", None)) or 0.0


async def _bounded(call: Awaitable[T]) -> T:
    """Await one AEP call within the event loop's bound on in-flight requests
    (:func:`~airflow_provider_aep.flow_runs.pacing.in_flight_slots`)."""
    async with in_flight_slots():
        return await call


async def _all_items(hook: Any, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every item of a ``GET /runs`` query, following ``_links.next`` page after page (each page
    request within the bound on in-flight requests)."""
    from airflow_provider_aep.hooks.paging import read_page

    path: str = "/runs"
    params: Any = query
    items: list[dict[str, Any]] = []
    for _ in range(1000):  # a runaway _links.next must not loop forever
        page = read_page(await _bounded(hook.get("flowservice", path, params=params)), path, params)
        items.extend(page.items)
        if page.next_path is None:
            break
        path, params = page.next_path, page.next_params
    return items


class WaitingTask(Protocol):
    """A task that waits for flow runs (the run operator, the sensor): what a deferred wait reads of it."""

    @property
    def aep_conn_id(self) -> str: ...

    @property
    def sandbox(self) -> str | None: ...

    @property
    def timeout(self) -> float:
        """How long the wait may last, in seconds."""

    @property
    def execution_timeout(self) -> timedelta | None: ...

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | int | float | None = None,
    ) -> NoReturn: ...


def wait_timeout(task: WaitingTask) -> float:
    """How long a deferred wait may last: the task's ``timeout``, or its ``execution_timeout`` if shorter."""
    if task.execution_timeout is None:
        return task.timeout
    return min(task.timeout, task.execution_timeout.total_seconds())


def defer_wait(task: WaitingTask, target: WaitTarget, *, poll_interval: float) -> NoReturn:
    """Defer ``task`` to an :class:`AEPFlowRunTrigger` waiting for ``target``; resume in ``execute_complete``.

    The trigger polls AEP with the task's connection and sandbox every ``poll_interval`` seconds, and
    gives up at the task's ``timeout`` from now, or at its ``execution_timeout`` when that comes first
    (a deferred wait is part of the task's execution); Airflow's own deferral timeout is only the
    backstop, :data:`DEFERRAL_BACKSTOP_SECONDS` later.
    """
    timeout = wait_timeout(task)
    trigger = AEPFlowRunTrigger(
        deadline=time.time() + timeout,
        aep_conn_id=task.aep_conn_id,
        sandbox=task.sandbox,
        run_ids=list(target.run_ids),
        flow_id=target.flow_id,
        window_start=target.window[0] if target.window else None,
        window_end=target.window[1] if target.window else None,
        poll_interval=poll_interval,
    )
    task.defer(
        trigger=trigger,
        method_name="execute_complete",
        timeout=timedelta(seconds=timeout + DEFERRAL_BACKSTOP_SECONDS),
    )
