"""Few ``GET /runs`` for many waits: the triggers of a process look their runs up together.

A triggerer holds thousands of :class:`~airflow_provider_aep.flow_runs.trigger.AEPFlowRunTrigger`
waits in one event loop. Asking AEP once per wait and poll costs one request, and its CPU, per wait;
at 5,000 waits one core saturated and polls slipped from every 5 s to every 23 s (docs/performance.md).
So the triggers of one event loop, connection and sandbox share their look-ups
(:func:`shared_lookups`), each kind through a :class:`CoalescedLookups`, which waits
:data:`COALESCE_SECONDS` for more keys, then fetches them together:

* waits by run id (:class:`RunLookups`): ``GET /runs?property=id==a,b,c``, :data:`IDS_PER_REQUEST`
  ids a request (Flow Service's multi-value filter, help/dataflows/api/sort-and-filter.md). A run the
  list does not show is asked for on its own (``GET /runs/{id}``), so an unknown run still gets AEP's
  own 404;
* waits for a window of a dataflow (:class:`FlowRunLists`): ONE ``GET /runs?property=flowId==<id>``
  (every page, following ``_links.next``) for all the waits on that dataflow, read once into
  :class:`~airflow_provider_aep.flow_runs.interpretation.FlowRunReport` objects that every wait then
  interprets for its own window.

Waits that share a look-up poll in the same instant (:mod:`~airflow_provider_aep.flow_runs.pacing`
gives the waits of one dataflow the same phase), so they meet in one coalesced batch. A failed
request fails every wait of its batch, as its own request would have.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from airflow_provider_aep.flow_runs.interpretation import FlowRunReport, read_flow_run

#: How long the first look-up waits for other triggers' keys before the request goes out.
COALESCE_SECONDS = 0.25
#: Run ids per ``GET /runs?property=id==...`` (36-character ids: about 1.5 kB of query string).
IDS_PER_REQUEST = 40

#: Fetches every item of a ``GET /runs`` query (all pages), and one run by id.
ListRuns = Callable[[list[tuple[str, str]]], Awaitable[list[dict[str, Any]]]]
GetRun = Callable[[str], Awaitable[dict[str, Any]]]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CoalescedLookups(Generic[K, V]):
    """Look-ups of many callers gathered for a moment, then fetched a chunk of keys at a time.

    :param fetch: fetch a chunk of keys; answer a value or an exception for every key of the chunk.
    :param coalesce_seconds: how long a batch stays open for more keys.
    :param keys_per_request: how many keys one fetch gets.
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V | BaseException]]],
        coalesce_seconds: float = COALESCE_SECONDS,
        keys_per_request: int = 1,
    ) -> None:
        self._fetch = fetch
        self._coalesce_seconds = coalesce_seconds
        self._keys_per_request = keys_per_request
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        """The value of ``key``, fetched together with the keys other callers ask for now.

        Callers of the same key share one value: treat it as read-only.
        """
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._send_after_pause())
        return await future

    async def _send_after_pause(self) -> None:
        await asyncio.sleep(self._coalesce_seconds)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        keys = list(waiting)
        size = self._keys_per_request
        chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
        await asyncio.gather(*(self._send(chunk, waiting) for chunk in chunks))

    async def _send(self, chunk: list[K], waiting: Mapping[K, list[asyncio.Future[V]]]) -> None:
        try:
            results = await self._fetch(chunk)
        except Exception as exc:  # every wait of the chunk sees the error, as its own request would
            results = dict.fromkeys(chunk, exc)
        for key in chunk:
            result = results.get(key)
            if result is None:
                result = LookupError(f"no answer for {key!r}")
            for future in waiting[key]:
                if future.done():  # its trigger was cancelled meanwhile
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


class RunLookups(CoalescedLookups[str, dict[str, Any]]):
    """Run items by id: ``GET /runs?property=id==a,b,...``, then ``GET /runs/{id}`` for ids not listed.

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
        super().__init__(self._fetch_runs, coalesce_seconds, ids_per_request)
        self._list_runs = list_runs
        self._get_run = get_run

    async def _fetch_runs(self, chunk: Sequence[str]) -> dict[str, dict[str, Any] | BaseException]:
        items = await self._list_runs([("property", "id==" + ",".join(chunk))])
        found: dict[str, dict[str, Any] | BaseException] = {
            str(item.get("id")): item for item in items if isinstance(item, dict)
        }
        missing = [run_id for run_id in chunk if run_id not in found]
        singles = await asyncio.gather(*map(self._get_run, missing), return_exceptions=True)
        found.update(zip(missing, singles, strict=True))
        return found


class FlowRunLists(CoalescedLookups[str, tuple[FlowRunReport, ...]]):
    """A dataflow's runs, read once for all the waits on it: ``GET /runs?property=flowId==<id>``.

    :param list_runs: fetch every item of a ``GET /runs`` query.
    :param coalesce_seconds: how long a batch stays open for more waits.
    """

    def __init__(self, list_runs: ListRuns, coalesce_seconds: float = COALESCE_SECONDS) -> None:
        super().__init__(self._fetch_flow, coalesce_seconds, keys_per_request=1)
        self._list_runs = list_runs

    async def _fetch_flow(self, chunk: Sequence[str]) -> dict[str, tuple[FlowRunReport, ...]]:
        from airflow_provider_aep.flow_runs.waiting import runs_query

        (flow_id,) = chunk
        items = await self._list_runs(runs_query(flow_id))
        return {flow_id: tuple(read_flow_run(item) for item in items)}


@dataclass(frozen=True)
class SharedLookups:
    """The shared look-ups of one event loop, connection and sandbox.

    :param runs: run items by id.
    :param flows: the runs of a dataflow.
    """

    runs: RunLookups
    flows: FlowRunLists


_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str | None], SharedLookups]
] = weakref.WeakKeyDictionary()


def shared_lookups(
    aep_conn_id: str, sandbox: str | None, list_runs: ListRuns, get_run: GetRun
) -> SharedLookups:
    """The :class:`SharedLookups` of the running event loop for a connection and sandbox.

    The first caller's ``list_runs``/``get_run`` serve every later one (they reach the same AEP).
    """
    per_loop = _by_loop.setdefault(asyncio.get_running_loop(), {})
    key = (aep_conn_id, sandbox)
    if key not in per_loop:
        per_loop[key] = SharedLookups(RunLookups(list_runs, get_run), FlowRunLists(list_runs))
    return per_loop[key]
