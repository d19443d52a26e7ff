"""Triggers of one process look their runs up together: ``GET /runs?property=id==a,b,c``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPNotFoundError
from airflow_provider_aep.flow_runs.batched_lookups import RunLookups
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.hooks.aep_async import close_shared_clients
from airflow_provider_aep.triggers.flow_run import AEPFlowRunTrigger
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, start_run


def test_ids_asked_at_once_go_out_in_chunks_and_missing_ones_alone() -> None:
    lists: list[list[str]] = []
    singles: list[str] = []
    known = {f"r{i}" for i in range(5)}

    async def list_runs(query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        ((_, value),) = query
        ids = value.removeprefix("id==").split(",")
        lists.append(ids)
        return [{"id": run_id, "n": 1} for run_id in ids if run_id in known]

    async def get_run(run_id: str) -> dict[str, Any]:
        singles.append(run_id)
        raise AEPNotFoundError(404, code="FLOW-1439-404", title="Resource not found")

    async def main() -> list[Any]:
        lookups = RunLookups(list_runs, get_run, coalesce_seconds=0.05, ids_per_request=2)
        asked = ["r0", "r1", "r2", "r3", "r4", "gone", "r0"]
        return list(await asyncio.gather(*(lookups.get(run_id) for run_id in asked), return_exceptions=True))

    results = asyncio.run(main())
    assert [r["id"] for r in results if isinstance(r, dict)] == ["r0", "r1", "r2", "r3", "r4", "r0"]
    assert isinstance(results[5], AEPNotFoundError)
    assert sorted(map(sorted, lists)) == [["gone", "r4"], ["r0", "r1"], ["r2", "r3"]]
    assert singles == ["gone"], "a run the list does not show gets AEP's own answer"


def test_a_failed_list_request_fails_each_of_its_waits() -> None:
    async def list_runs(query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        raise RuntimeError("gateway down")

    async def get_run(run_id: str) -> dict[str, Any]:
        raise AssertionError("not asked")

    async def main() -> list[Any]:
        lookups = RunLookups(list_runs, get_run, coalesce_seconds=0.01)
        return list(await asyncio.gather(lookups.get("a"), lookups.get("b"), return_exceptions=True))

    assert [str(result) for result in asyncio.run(main())] == ["gateway down", "gateway down"]


@pytest.mark.parametrize("waits", [30])
def test_many_triggers_poll_with_few_requests(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, waits: int
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=1.5)
    run_ids = [start_run(hook, flow, days_ago=day) for day in range(1, waits + 1)]
    before = len(aep.requests())

    async def main() -> list[dict[str, Any]]:
        async def wait(run_id: str) -> dict[str, Any]:
            trigger = AEPFlowRunTrigger(deadline=time.time() + 60, run_ids=[run_id], poll_interval=0.5)
            async for event in trigger.run():
                return dict(event.payload)
            raise AssertionError("no event")

        try:
            return await asyncio.gather(*(wait(run_id) for run_id in run_ids))
        finally:
            await close_shared_clients()

    events = asyncio.run(main())
    assert [(e["status"], e["runs"][0]["raw_status"]) for e in events] == [("finished", "success")] * waits
    polls = [r for r in aep.requests()[before:] if "/flowservice/runs" in r["path"]]
    assert all(r["path"].endswith("/flowservice/runs") for r in polls), "no GET /runs/{id} per wait"
    # every wait polled at least twice (queued, then done), yet the requests are a few per round
    assert len(polls) <= 3 * 6
