"""Hold many deferred flow-run waits in one event loop, like a triggerer, and measure what they cost.

Three processes, so that the measured one holds only the triggers, as a triggerer does:

* the emulator, ``aep-emulator serve`` in its own process group on a free loopback port;
* a setup process that creates ``--flows`` dataflows scheduled ``once`` and ``--runs`` on-demand runs
  over consecutive daily windows (each flow gets one run per past day), concurrently;
* this process, which runs ``--runs`` concurrent ``AEPFlowRunTrigger.run()`` waits (the real trigger
  class, over real HTTP) in one asyncio event loop until every one has yielded its event. In
  ``--mode run-id`` each waits for its run by id; in ``--mode window`` each waits for "the runs of
  dataflow F covering window W" (its run's day), so ``--runs / --flows`` waits share each dataflow.
  All the triggers are created at once (as after a triggerer restart, the worst case for lockstep);
  their own schedule spreads their polls over the interval.

The runs last about ``--rounds`` poll intervals (``--run-duration`` overrides), so each wait polls
that many times, plus once to see its run finished. It reports, for the waits only:

* punctuality: each poll's start against the time it was due (``AEPFlowRunTrigger.due_at``): the
  share within 10 % of the interval, median, p95 and max lateness;
* CPU seconds of this process (``time.process_time``) per wait per poll and as a share of one core;
  the emulator's CPU over the same time, from ``/proc``, and every other process's;
* HTTP requests the emulator received (``GET /__emulator__/requests``) per wait per poll;
* RSS of this process before the waits (every module a wait needs already imported) and at its peak
  (``ru_maxrss``), and the growth per wait;
* IMS token requests (the goal is one for the whole process).

    python benchmarks/deferred_waits.py --mode window --runs 10000 --flows 100 --poll-interval 30 --rounds 4

Bounded: the setup must finish within ``--setup-timeout`` seconds, every wait has a deadline
(``--deadline``, default ``rounds + 3`` intervals), the event loop is abandoned a minute after that,
and the emulator process group is stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import httpx
from emulator_process import HOST, free_port, running_emulator
from paypal_dataflow import DAY, DELTA_COLUMN, create_paypal_dataflow

from aep_emulator.runs import QUEUE_FRACTION
from aep_emulator.settings import EmulatorSettings, airflow_connection_env
from aep_emulator.testing import ADMIN_PREFIX
from airflow_provider_aep.flow_runs import FlowRunReport
from airflow_provider_aep.triggers.flow_run import AEPFlowRunTrigger

RUN_PATH = "/data/foundation/flowservice/runs"
TOKEN_PATH = "/ims/token/v3"
CREATE_CONCURRENCY = 32


class TimedTrigger(AEPFlowRunTrigger):
    """The real trigger, noting each poll's lateness: when it started minus when it was due (seconds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lateness: list[float] = []

    async def poll(self, hook: Any) -> list[FlowRunReport]:
        assert self.due_at is not None
        self.lateness.append(time.time() - self.due_at)
        return await super().poll(hook)


# --- the emulator, in its own process -------------------------------------------------------------


def emulated_now(admin: httpx.Client) -> float:
    """The emulator's clock (epoch seconds, real time plus any advance)."""
    now: float = admin.get("/health").json()["now"]
    return now


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- setup, in a separate process -----------------------------------------------------------------


def run_window(index: int, flows: int, today: int) -> tuple[int, int]:
    """The daily window of run ``index`` (runs go round the flows, one day further back each lap)."""
    end = today - (index // flows) * DAY
    return end - DAY, end


async def start_runs(flows: list[str], runs: int, start_at: float, today: int) -> list[str]:
    """``runs`` on-demand runs spread over the flows, each over its own past day, created concurrently.

    They all start at ``start_at`` (epoch seconds, later than the setup can last): until then they are
    ``scheduled``, so none of them progresses while the others are still being created.
    """
    from airflow_provider_aep.hooks.aep_async import AEPAsyncHook, close_shared_clients
    from airflow_provider_aep.models.responses import created_id

    hook = AEPAsyncHook()
    slots = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def start(index: int) -> str:
        start, end = run_window(index, len(flows), today)
        body = {
            "flowId": flows[index % len(flows)],
            "params": {
                "startTime": int(start_at),
                "windowStartTime": start,
                "windowEndTime": end,
                "deltaColumn": DELTA_COLUMN,
            },
        }
        async with slots:
            return created_id(await hook.request("POST", "flowservice", "/runs", json=body))

    try:
        return list(await asyncio.gather(*(start(index) for index in range(runs))))
    finally:
        await close_shared_clients()


Setup = tuple[list[str], list[str], int]  # flow ids, run ids, the UTC midnight windows end at


def set_up(conn_env: dict[str, str], flows: int, runs: int, start_at: float) -> Setup:
    """Run in the setup process: create the dataflows, then the runs; return their ids."""
    os.environ.update(conn_env)
    from airflow_provider_aep.hooks.aep import AEPHook

    today = int(time.time()) // DAY * DAY
    with AEPHook() as hook:
        flow_ids = [create_paypal_dataflow(hook, f"bench {index}") for index in range(flows)]
    return flow_ids, asyncio.run(start_runs(flow_ids, runs, start_at, today)), today


def set_up_elsewhere(
    conn_env: dict[str, str], flows: int, runs: int, start_at: float, timeout: float
) -> Setup:
    """``set_up`` in a fresh (spawned) process, so none of its memory or CPU lands in this one."""
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        setup: Setup = pool.apply_async(set_up, (conn_env, flows, runs, start_at)).get(timeout=timeout)
        return setup
    finally:
        pool.terminate()
        pool.join()


# --- the waits, in this process -------------------------------------------------------------------


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def import_what_a_wait_needs() -> None:
    """Load every module the first poll would load lazily: a running triggerer already has them."""
    import airflow.sdk
    import airflow.sdk.log

    import airflow_provider_aep.flow_runs.interpretation
    import airflow_provider_aep.hooks.aep_async
    import airflow_provider_aep.hooks.paging  # noqa: F401

    _ = airflow.sdk.BaseHook, airflow.sdk.log.amask_secret


async def hold_waits(
    triggers: list[TimedTrigger], spread: float, give_up_after: float
) -> list[dict[str, Any]]:
    """Run every trigger concurrently (starts spread evenly over ``spread`` s) until each yields."""
    from airflow_provider_aep.hooks.aep_async import close_shared_clients

    async def wait(index: int, trigger: TimedTrigger) -> dict[str, Any]:
        await asyncio.sleep(spread * index / len(triggers))
        async for event in trigger.run():
            payload: dict[str, Any] = event.payload
            return payload
        raise RuntimeError(f"trigger of {trigger.run_ids} ended without an event")

    try:
        waits = asyncio.gather(*(wait(index, trigger) for index, trigger in enumerate(triggers)))
        return list(await asyncio.wait_for(waits, timeout=give_up_after))
    finally:
        await close_shared_clients()


# --- figures --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.5 is the median)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def describe_punctuality(lateness: list[float], poll_interval: float) -> str:
    """The share of polls within 10 % of the interval of their due time, and the lateness spread."""
    if not lateness:
        return "punctuality: no poll"
    on_time = sum(abs(late) <= 0.1 * poll_interval for late in lateness) / len(lateness)
    return (
        f"punctuality: {on_time:.1%} of {len(lateness):,} polls started within 10 % of the interval "
        f"({0.1 * poll_interval:g} s) of their due time; "
        f"lateness median {percentile(lateness, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(lateness, 0.95) * 1000:.0f} ms, max {max(lateness) * 1000:.0f} ms"
    )


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used so far (Linux ``/proc/stat``, all cores)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mode", choices=("run-id", "window"), default="run-id", help="what each wait is for"
    )
    parser.add_argument("--runs", type=int, default=1000, help="concurrent waits, one run each")
    parser.add_argument("--flows", type=int, default=10, help="dataflows the runs are spread over")
    parser.add_argument("--poll-interval", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=4, help="poll intervals a run lasts")
    parser.add_argument("--run-duration", type=float, help="seconds a run is inProgress (from --rounds)")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which the triggers start")
    parser.add_argument("--deadline", type=float, help="seconds each wait may last (rounds + 3 intervals)")
    parser.add_argument("--setup-timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.run_duration is None:  # queued, then in progress: over by the middle of the last round
        args.run_duration = (args.rounds - 0.5) * args.poll_interval / (1 + QUEUE_FRACTION)
    if args.deadline is None:
        args.deadline = (args.rounds + 3) * args.poll_interval

    settings = EmulatorSettings.from_env(
        os.environ, host=HOST, port=free_port(), run_duration_seconds=args.run_duration
    )
    url = f"http://{HOST}:{settings.port}"
    conn_env = airflow_connection_env(url, settings)
    print(f"load average before: {load_average()} on {os.cpu_count()} CPUs")
    admin = httpx.Client(base_url=url + ADMIN_PREFIX, timeout=60)
    with tempfile.TemporaryFile() as emulator_log, admin:
        try:
            with running_emulator(settings, stderr=emulator_log) as emulator:
                print(
                    f"emulator: separate process {emulator.pid} at {url}; a run is queued "
                    f"{QUEUE_FRACTION * args.run_duration:.1f} s then in progress {args.run_duration:.1f} s"
                )
                started = time.monotonic()
                start_at = int(time.time() + args.setup_timeout + 60)
                setup = set_up_elsewhere(conn_env, args.flows, args.runs, start_at, args.setup_timeout)
                # Every run starts at start_at: move the emulated clock there, so they all start now.
                advance = start_at - emulated_now(admin)
                admin.post("/clock/advance", json={"seconds": advance}).raise_for_status()
                print(
                    f"setup (separate process): {args.flows} dataflows and {len(setup[1]):,} runs "
                    f"in {time.monotonic() - started:.1f} s, all starting together (emulated clock "
                    f"advanced {advance:.0f} s to their start time)"
                )
                return measure(args, conn_env, setup, admin, emulator.pid)
        except BaseException:
            emulator_log.seek(0)
            sys.stderr.write(emulator_log.read()[-4000:].decode(errors="replace"))
            raise


def make_triggers(args: argparse.Namespace, setup: Setup, deadline: float) -> list[TimedTrigger]:
    """One trigger per run: by its id, or (window mode) by its dataflow and its day."""
    flow_ids, run_ids, today = setup
    if args.mode == "run-id":
        return [
            TimedTrigger(deadline=deadline, run_ids=[run_id], poll_interval=args.poll_interval)
            for run_id in run_ids
        ]
    triggers = []
    for index in range(len(run_ids)):
        start, end = run_window(index, len(flow_ids), today)
        flow_id = flow_ids[index % len(flow_ids)]
        triggers.append(
            TimedTrigger(
                deadline=deadline,
                flow_id=flow_id,
                window_start=start,
                window_end=end,
                poll_interval=args.poll_interval,
            )
        )
    return triggers


def measure(
    args: argparse.Namespace, conn_env: dict[str, str], setup: Setup, admin: httpx.Client, emulator_pid: int
) -> int:
    """Hold the waits in this process and print what they cost; 0 if every run finished well."""
    os.environ.update(conn_env)
    import_what_a_wait_needs()
    triggers = make_triggers(args, setup, time.time() + args.deadline)
    gc.collect()
    rss_before, peak_before = rss_bytes(), peak_rss_bytes()
    emulator_cpu_before, machine_before = cpu_seconds_of(emulator_pid), machine_busy_seconds()
    emulated_started = emulated_now(admin)
    wall_started, cpu_started = time.monotonic(), time.process_time()
    events = asyncio.run(hold_waits(triggers, args.spread, args.deadline + 60))
    cpu = time.process_time() - cpu_started
    wall = time.monotonic() - wall_started
    emulator_cpu = cpu_seconds_of(emulator_pid) - emulator_cpu_before
    others = machine_busy_seconds() - machine_before - emulator_cpu - cpu
    peak = peak_rss_bytes()
    emulated_ended = emulated_now(admin)

    logged = admin.get("/requests").json()["requests"]
    during = [r for r in logged if emulated_started <= r["time"] <= emulated_ended]
    run_gets = [r for r in during if r["method"] == "GET" and r["path"].startswith(RUN_PATH)]
    single_gets = sum(1 for r in run_gets if r["path"] != RUN_PATH)
    token_requests = sum(1 for r in during if r["path"] == TOKEN_PATH)

    statuses: dict[str, int] = {}
    right_run = 0
    for event, run_id in zip(events, setup[1], strict=True):  # each wait, its own run
        runs = event["runs"]
        key = f"{event['status']}:{runs[0]['raw_status'] if runs else '-'}"
        statuses[key] = statuses.get(key, 0) + 1
        right_run += [run["run_id"] for run in runs] == [run_id]
    polls = sum(len(trigger.lateness) for trigger in triggers)
    waits = len(events)
    interval = args.poll_interval
    print(
        f"{waits:,} concurrent waits ({args.mode} mode, {waits / args.flows:g} waits a dataflow) in one "
        f"event loop, poll interval {interval:g} s, ended in {wall:.1f} s: {statuses}; "
        f"{right_run:,} reported exactly their own run"
    )
    print(describe_punctuality([late for trigger in triggers for late in trigger.lateness], interval))
    print(
        f"trigger process CPU during the waits: {cpu:.1f} s over {wall:.1f} s "
        f"({cpu / wall:.0%} of one core), {cpu * 1000 / polls:.3f} ms per wait per poll; "
        f"emulator process: {emulator_cpu:.1f} s ({emulator_cpu / wall:.0%} of one core); "
        f"every other process: {max(others, 0.0):.1f} s ({max(others, 0.0) / wall:.0%} of one core)"
    )
    print(
        f"polls: {polls:,} ({polls / waits:.1f} per wait); HTTP requests the emulator received: "
        f"{len(during):,} = {len(during) / polls:.4f} per wait per poll "
        f"(GET /runs {len(run_gets) - single_gets:,}, GET /runs/{{id}} {single_gets:,}, "
        f"IMS token {token_requests}, other {len(during) - len(run_gets) - token_requests})"
    )
    growth = peak - rss_before
    print(
        f"RSS before the waits (modules imported): {rss_before / 2**20:.0f} MiB "
        f"(peak so far {peak_before / 2**20:.0f} MiB); peak during: {peak / 2**20:.0f} MiB "
        f"(+{growth / 2**20:.0f} MiB, {growth / waits / 1024:.1f} KiB per wait)"
    )
    print(f"IMS token requests during the waits: {token_requests}")
    print(f"load average after: {load_average()}")
    ok = (
        waits == len(setup[1])
        and right_run == waits
        and all(event["status"] == "finished" for event in events)
    )
    return 0 if ok and token_requests <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
