"""Hold many deferred flow-run waits in one event loop, like a triggerer, and measure their cost.

Starts the emulator (``RunningEmulator``, loopback only) with runs that last ``--run-duration``
seconds, creates ``--flows`` dataflows scheduled ``once`` and ``--runs`` on-demand runs over
consecutive daily windows, then runs ``--runs`` concurrent ``AEPFlowRunTrigger.run()`` waits in one
event loop until every one of them has yielded its event. It reports:

* peak RSS of the process during the waits (the emulator runs in the same process, so this is an
  upper bound for the triggers), and the growth over the RSS before the waits started;
* HTTP requests per poll per run (each look at a run should cost exactly one ``GET /runs/{id}``);
* IMS token requests during the waits (the goal is one for the whole process).

    python benchmarks/deferred_waits.py [--runs 1000] [--flows 10] [--run-duration 20] [--poll-interval 5]

Bounded: every wait has a deadline (``--deadline``, default 180 s) and the script exits after it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from typing import Any

from airflow_provider_aep.emulator.testing import RunningEmulator
from airflow_provider_aep.flow_runs import FlowRunReport
from airflow_provider_aep.triggers.flow_run import AEPFlowRunTrigger

DAY = 86400
PAYPAL_SPEC = {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"}
DATA_LAKE_SPEC = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
CRM_TO_AEP = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}
CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"


class CountingTrigger(AEPFlowRunTrigger):
    """The real trigger, counting its polls so requests per poll can be computed."""

    polls = 0

    async def poll(self, hook: Any) -> list[FlowRunReport]:
        CountingTrigger.polls += 1
        return await super().poll(hook)


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def create_once_flow(hook: Any, index: int) -> str:
    """The seed 001 PayPal -> data lake dataflow, scheduled ``once`` far in the future."""
    from airflow_provider_aep.models.responses import created_id

    def post(service: str, path: str, body: dict[str, Any]) -> str:
        return created_id(hook.post(service, path, json=body))

    base = post(
        "flowservice",
        "/connections",
        {
            "name": f"PayPal bench {index}",
            "auth": {
                "specName": "Client-Id-Secret Based Authentication",
                "params": {
                    "host": "https://api-m.sandbox.paypal.com",
                    "clientId": "id",
                    "clientSecret": "bench",
                },
            },
            "connectionSpec": PAYPAL_SPEC,
        },
    )
    source = post(
        "flowservice",
        "/sourceConnections",
        {
            "name": f"PayPal source bench {index}",
            "baseConnectionId": base,
            "data": {"format": "tabular"},
            "params": {"tableName": "PayPal.Catalog_Products"},
            "connectionSpec": PAYPAL_SPEC,
        },
    )
    schema = hook.post(
        "schemaregistry",
        "/tenant/schemas",
        json={
            "type": "object",
            "title": f"Bench products {index}",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )["$id"]
    dataset = post(
        "catalog",
        "/dataSets",
        {"name": f"Bench {index}", "schemaRef": {"id": schema, "contentType": CONTENT_TYPE}},
    )
    target = post(
        "flowservice",
        "/targetConnections",
        {
            "name": f"Data lake bench {index}",
            "data": {"schema": {"id": schema, "version": CONTENT_TYPE}},
            "params": {"dataSetId": dataset},
            "connectionSpec": DATA_LAKE_SPEC,
        },
    )
    mapping = post(
        "conversion",
        "/mappingSets",
        {
            "version": 0,
            "xdmSchema": schema,
            "xdmVersion": "1.0",
            "mappings": [{"destinationXdmPath": "_id", "sourceAttribute": "Product_Id", "version": 0}],
        },
    )
    return post(
        "flowservice",
        "/flows",
        {
            "name": f"Bench dataflow {index}",
            "flowSpec": CRM_TO_AEP,
            "sourceConnectionIds": [source],
            "targetConnectionIds": [target],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "Update_Time"}}},
                {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}},
            ],
            "scheduleParams": {"startTime": str(int(time.time()) + 3650 * DAY), "frequency": "once"},
        },
    )


def start_runs(hook: Any, flows: list[str], runs: int) -> list[str]:
    """``runs`` on-demand runs spread over the flows, each over its own past day."""
    from airflow_provider_aep.models.responses import created_id

    today = int(time.time()) // DAY * DAY
    run_ids = []
    for index in range(runs):
        end = today - (index // len(flows)) * DAY
        body = {
            "flowId": flows[index % len(flows)],
            "params": {
                "startTime": int(time.time()),
                "windowStartTime": end - DAY,
                "windowEndTime": end,
                "deltaColumn": {"name": "Update_Time"},
            },
        }
        run_ids.append(created_id(hook.post("flowservice", "/runs", json=body)))
    return run_ids


async def hold_waits(
    run_ids: list[str], deadline: float, poll_interval: float
) -> tuple[list[dict[str, Any]], int]:
    """Run one trigger per run concurrently until each yields; sample RSS meanwhile."""
    from airflow_provider_aep.hooks.aep_async import close_shared_clients

    peak = rss_bytes()

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_bytes())
            await asyncio.sleep(0.25)

    async def wait(run_id: str) -> dict[str, Any]:
        trigger = CountingTrigger(deadline=deadline, run_ids=[run_id], poll_interval=poll_interval)
        async for event in trigger.run():
            payload: dict[str, Any] = event.payload
            return payload
        raise RuntimeError(f"trigger of {run_id} ended without an event")

    sampler = asyncio.create_task(sample())
    try:
        events = await asyncio.gather(*(wait(run_id) for run_id in run_ids))
    finally:
        sampler.cancel()
        await close_shared_clients()
    return events, max(peak, rss_bytes())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=10)
    parser.add_argument("--run-duration", type=float, default=20.0)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds each wait may last")
    args = parser.parse_args()

    with RunningEmulator(run_duration_seconds=args.run_duration) as emulator:
        os.environ.update(emulator.conn_env())
        from airflow_provider_aep.hooks._core import TOKENS
        from airflow_provider_aep.hooks.aep import AEPHook

        setup_started = time.monotonic()
        with AEPHook() as hook:
            flows = [create_once_flow(hook, index) for index in range(args.flows)]
            run_ids = start_runs(hook, flows, args.runs)
        setup_seconds = time.monotonic() - setup_started
        print(f"created {len(flows)} dataflows and {len(run_ids)} runs in {setup_seconds:.1f} s")

        TOKENS.clear()  # the waits must get their own token: count how many they ask for
        logged_before = len(emulator.requests())
        rss_before = rss_bytes()
        started = time.monotonic()
        events, peak = asyncio.run(hold_waits(run_ids, time.time() + args.deadline, args.poll_interval))
        elapsed = time.monotonic() - started
        during = emulator.requests()[logged_before:]

    statuses: dict[str, int] = {}
    for event in events:
        key = f"{event['status']}:{event['runs'][0]['raw_status'] if event['runs'] else '-'}"
        statuses[key] = statuses.get(key, 0) + 1
    run_gets = sum(1 for r in during if r["method"] == "GET" and "/flowservice/runs/" in r["path"])
    token_requests = sum(1 for r in during if r["path"].endswith("/ims/token/v3"))
    polls = CountingTrigger.polls
    print(f"{len(events)} concurrent waits in one event loop finished in {elapsed:.1f} s: {statuses}")
    print(f"polls: {polls} ({polls / len(events):.1f} per run, poll interval {args.poll_interval:g} s)")
    print(f"HTTP requests during the waits: {len(during)}; GET /runs/{{id}}: {run_gets}")
    print(f"requests per poll per run: {run_gets / polls:.3f}")
    print(f"IMS token requests during the waits: {token_requests}")
    growth = peak - rss_before
    print(
        f"RSS before the waits: {rss_before / 2**20:.0f} MiB; peak during: {peak / 2**20:.0f} MiB "
        f"(+{growth / 2**20:.0f} MiB, {growth / len(events) / 1024:.1f} KiB per wait)"
    )
    print(f"threads alive at the end: {threading.active_count()}")
    ok = all(event["status"] == "finished" for event in events) and token_requests <= 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
