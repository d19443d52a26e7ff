"""One ``GET /runs`` for many waits: the triggers of a process look their runs up together.

A triggerer holds thousands of :class:`~airflow_provider_aep.flow_runs.trigger.AEPFlowRunTrigger`
waits in one event loop. Asking ``GET /runs/{id}`` for each of them on every poll costs one request,
and its CPU, per wait; at 5,000 waits one core saturates and polls slip from every 5 s to every 23 s
(README, Performance). Flow Service filters a list by several values at once (``property=id==a,b,c``,
help/dataflows/api/sort-and-filter.md), so the triggers of one event loop, connection and sandbox
hand their run ids to a :class:`RunLookups`, which waits :data:`COALESCE_SECONDS` for more ids, then
asks for them :data:`IDS_PER_REQUEST` at a time. A run the list does not show is asked for on its own
(``GET /runs/{id}``), so an unknown run still gets AEP's own 404.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

#: How long the first look-up waits for other triggers' ids before the request goes out.
COALESCE_SECONDS = 0.25
#: Run ids per ``GET /runs?property=id==...`` (36-character ids: about 1.5 kB of query string).
IDS_PER_REQUEST = 40

#: Fetches every item of a ``GET /runs`` query (all pages), and one run by id.
ListRuns = Callable[[list[tuple[str, str]]], Awaitable[list[dict[str, Any]]]]
GetRun = Callable[[str], Awaitable[dict[str, Any]]]


class RunLookups:
    """Coalesces the run look-ups of one event loop, connection and sandbox into few list requests.

    :param list_runs: fetch every item of a ``GET /runs`` query.
    :param get_run: fetch one run by id (for ids the list did not show).
    :param coalesce_seconds: how long a batch stays open for more ids.
    :param ids_per_request: how many ids one list request asks for.
    """

    def __init__(
        self,
        list_runs: ListRuns,
        get_run: GetRun,
        coalesce_seconds: float = COALESCE_SECONDS,
        ids_per_request: int = IDS_PER_REQUEST,
    ) -> None:
        self._list_runs = list_runs
        self._get_run = get_run
        self._coalesce_seconds = coalesce_seconds
        self._ids_per_request = ids_per_request
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def get(self, run_id: str) -> dict[str, Any]:
        """The run item of ``run_id``, fetched together with the ids other triggers ask for now."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(run_id, []).append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._send_after_pause())
        return await future

    async def _send_after_pause(self) -> None:
        await asyncio.sleep(self._coalesce_seconds)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        ids = list(waiting)
        chunks = [ids[i : i + self._ids_per_request] for i in range(0, len(ids), self._ids_per_request)]
        await asyncio.gather(*(self._send(chunk, waiting) for chunk in chunks))

    async def _send(
        self, chunk: Sequence[str], waiting: dict[str, list[asyncio.Future[dict[str, Any]]]]
    ) -> None:
        try:
            items = await self._list_runs([("property", "id==" + ",".join(chunk))])
        except Exception as exc:  # every wait of the chunk sees the error, as its own request would
            for run_id in chunk:
                _settle(waiting[run_id], error=exc)
            return
        found = {str(item.get("id")): item for item in items if isinstance(item, dict)}
        missing = [run_id for run_id in chunk if run_id not in found]
        for run_id in chunk:
            if run_id in found:
                _settle(waiting[run_id], item=found[run_id])
        for run_id, result in zip(
            missing, await asyncio.gather(*map(self._get_run, missing), return_exceptions=True), strict=True
        ):
            if isinstance(result, BaseException):
                _settle(waiting[run_id], error=result)
            else:
                _settle(waiting[run_id], item=result)


def _settle(
    futures: list[asyncio.Future[dict[str, Any]]],
    item: dict[str, Any] | None = None,
    error: BaseException | None = None,
) -> None:
    for future in futures:
        if future.done():  # its trigger was cancelled meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(dict(item or {}))


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str | None], RunLookups]] = (
    weakref.WeakKeyDictionary()
)


def run_lookups(aep_conn_id: str, sandbox: str | None, list_runs: ListRuns, get_run: GetRun) -> RunLookups:
    """The :class:`RunLookups` of the running event loop for a connection and sandbox."""
    per_loop = _by_loop.setdefault(asyncio.get_running_loop(), {})
    key = (aep_conn_id, sandbox)
    if key not in per_loop:
        per_loop[key] = RunLookups(list_runs, get_run)
    return per_loop[key]
