"""A triggerer's waits: spread over the interval, bounded in flight, sharing one list per dataflow.

Over real HTTP against the emulator: requests are counted from its request log.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.flow_runs import Outcome, pacing
from airflow_provider_aep.flow_runs.interpretation import FlowRunReport
from airflow_provider_aep.flow_runs.pacing import PollSchedule
from airflow_provider_aep.flow_runs.waiting import TriggerOutcome
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.hooks.aep_async import close_shared_clients
from airflow_provider_aep.triggers.flow_run import AEPFlowRunTrigger
from tests.flow_runs.flow_run_helpers import DAY, FAR_FUTURE, MakeFlow, run_trigger, start_run

RUNS_PATH = "/data/foundation/flowservice/runs"


class NotingTrigger(AEPFlowRunTrigger):
    """The real trigger, noting each poll's due time and when it really started (epoch seconds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.polls: list[tuple[float, float]] = []

    async def poll(self, hook: Any) -> list[FlowRunReport]:
        assert self.due_at is not None
        self.polls.append((self.due_at, time.time()))
        return await super().poll(hook)


def window_of(days_ago: int) -> tuple[int, int]:
    """The window ``start_run(hook, flow, days_ago)`` asks for."""
    end = (int(time.time()) // DAY - days_ago + 1) * DAY
    return end - DAY, end


def run_all(triggers: Sequence[AEPFlowRunTrigger], give_up_after: float = 60) -> list[dict[str, Any]]:
    """Run every trigger to its first event in one event loop, as a triggerer does."""

    async def first_event(trigger: AEPFlowRunTrigger) -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    async def main() -> list[dict[str, Any]]:
        try:
            waits = asyncio.gather(*map(first_event, triggers))
            return list(await asyncio.wait_for(waits, give_up_after))
        finally:
            await close_shared_clients()

    return asyncio.run(main())


def list_requests(aep: RunningEmulator) -> list[dict[str, Any]]:
    return [r for r in aep.requests() if r["method"] == "GET" and r["path"] == RUNS_PATH]


def test_window_waits_on_one_dataflow_share_one_list_request_per_poll(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    """Ten waits on three windows of one dataflow: one ``GET /runs?property=flowId==`` a round, and
    each wait still gets its own window's run and verdict (success, failed, partial)."""
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=1.5)
    succeeded, failed, partial = (start_run(hook, flow, days_ago=day) for day in (1, 2, 3))
    aep.set_run_outcome(failed, "failed", [{"code": "CONNECTOR-2001-500", "message": "source down"}])
    aep.set_run_outcome(partial, "partialSuccess")
    expected = {1: (succeeded, "success"), 2: (failed, "failed"), 3: (partial, "partialSuccess")}
    days = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    triggers = [
        NotingTrigger(
            deadline=time.time() + 60,
            flow_id=flow,
            window_start=window_of(day)[0],
            window_end=window_of(day)[1],
            poll_interval=0.5,
        )
        for day in days
    ]
    before = len(aep.requests())

    events = run_all(triggers)

    for day, trigger, event in zip(days, triggers, events, strict=True):
        assert event["status"] == "finished"
        assert [(run["run_id"], run["raw_status"]) for run in event["runs"]] == [expected[day]]
        verdict = trigger.target.verdict(TriggerOutcome.from_event(event).reports)
        assert verdict.outcome is (Outcome.SUCCESS if day == 1 else Outcome.FAILURE)
    polled = [r for r in aep.requests()[before:] if r["path"].startswith(RUNS_PATH)]
    assert all(parse_qsl(r["query"]) == [("property", f"flowId=={flow}")] for r in polled), polled
    rounds = max(len(trigger.polls) for trigger in triggers)
    assert rounds >= 2, "the runs were seen running, then finished"
    assert len(polled) == rounds, "one list request a round, whatever the number of waits"
    assert sum(len(trigger.polls) for trigger in triggers) >= len(days) * 2


def test_waits_of_one_dataflow_poll_in_the_same_slot_and_others_are_spread() -> None:
    interval = 30.0
    by_id = [AEPFlowRunTrigger(deadline=0, run_ids=[f"run-{i}"], poll_interval=interval) for i in range(200)]
    phases = {trigger.schedule.phase for trigger in by_id}
    assert len(phases) >= 24, "200 waits by run id fall into most of the 32 slots"
    assert all(0 <= phase < interval for phase in phases)
    by_flow = [
        AEPFlowRunTrigger(
            deadline=0, flow_id="flow-a", window_start=day, window_end=day + DAY, poll_interval=interval
        )
        for day in range(0, 10 * DAY, DAY)
    ]
    assert {trigger.schedule for trigger in by_flow} == {by_flow[0].schedule}
    other_flows = {
        AEPFlowRunTrigger(
            deadline=0, flow_id=f"flow-{i}", window_start=0, window_end=DAY, poll_interval=interval
        ).schedule.phase
        for i in range(50)
    }
    assert len(other_flows) >= 16


def test_the_schedule_keeps_its_phase_and_skips_missed_slots() -> None:
    schedule = PollSchedule(interval=30.0, phase=7.5)
    assert schedule.next_due(1_000_000.0) == 1_000_027.5  # 1,000,027.5 = 7.5 + 33,334 * 30
    assert schedule.next_due(1_000_027.5) == 1_000_057.5, "strictly after: a poll never repeats its slot"
    assert schedule.next_due(1_000_100.0) == 1_000_117.5, "a late poll resumes at the next slot"
    with pytest.raises(ValueError, match="poll_interval"):
        AEPFlowRunTrigger(deadline=0, run_ids=["r"], poll_interval=0)


def test_the_phase_is_the_same_in_every_process() -> None:
    """A restarted triggerer (another process, another hash seed) polls the same slots."""
    code = (
        "from airflow_provider_aep.flow_runs.pacing import PollSchedule;"
        "print(PollSchedule.for_key('flow-x', 30.0).phase, PollSchedule.for_key('r1,r2', 30.0).phase)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    here = [PollSchedule.for_key("flow-x", 30.0).phase, PollSchedule.for_key("r1,r2", 30.0).phase]
    assert [float(value) for value in output.stdout.split()] == here


def test_first_polls_are_spread_and_on_time(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=2.5)
    run_ids = [start_run(hook, flow, days_ago=day) for day in range(1, 13)]
    started = time.time()
    triggers = [
        NotingTrigger(deadline=time.time() + 60, run_ids=[run_id], poll_interval=2.0) for run_id in run_ids
    ]

    events = run_all(triggers)

    assert [event["runs"][0]["raw_status"] for event in events] == ["success"] * len(run_ids)
    first_offsets = [trigger.polls[0][0] - started for trigger in triggers]
    assert all(0 <= offset <= 2.0 for offset in first_offsets), first_offsets
    assert len({round(offset, 3) for offset in first_offsets}) >= 3, "first polls are not in lockstep"
    lateness = [actual - due for trigger in triggers for due, actual in trigger.polls]
    assert all(-0.01 <= late <= 0.2 for late in lateness), lateness
    for trigger in triggers:
        gaps = [b[0] - a[0] for a, b in zip(trigger.polls, trigger.polls[1:], strict=False)]
        assert all(gap == pytest.approx(2.0) for gap in gaps), "polls keep the interval"


def test_in_flight_requests_never_exceed_the_bound(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten unknown runs: the list shows none, so each is asked for alone, at most 3 at a time."""
    monkeypatch.setattr(pacing, "MAX_IN_FLIGHT", 3)
    aep.add_faults([{"method": "GET", "path": f"^{RUNS_PATH}/.+", "delay_ms": 300, "times": 100}])
    unknown = [f"00000000-0000-0000-0000-{index:012d}" for index in range(10)]
    triggers = [
        AEPFlowRunTrigger(deadline=time.time() + 30, run_ids=[run_id], poll_interval=0.2)
        for run_id in unknown
    ]

    events = run_all(triggers)

    assert [(event["status"], "404" in event["message"]) for event in events] == [("error", True)] * 10
    singles = [r for r in aep.requests() if r["method"] == "GET" and r["path"].startswith(RUNS_PATH + "/")]
    assert len(singles) == 10
    edges = sorted(
        [(r["time"], 1) for r in singles] + [(r["time"] + r["duration_ms"] / 1000, -1) for r in singles],
        key=lambda edge: (edge[0], edge[1]),
    )
    in_flight, most = 0, 0
    for _, change in edges:
        in_flight += change
        most = max(most, in_flight)
    assert 2 <= most <= 3, f"{most} requests in flight at once"


def test_a_restarted_trigger_resumes_and_yields_the_same_verdict(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=2.0)
    run_id = start_run(hook, flow, days_ago=1)
    aep.set_run_outcome(run_id, "failed", [{"code": "CONNECTOR-2001-500", "message": "source down"}])
    start, end = window_of(1)
    trigger = AEPFlowRunTrigger(
        deadline=time.time() + 60, flow_id=flow, window_start=start, window_end=end, poll_interval=0.3
    )

    async def stopped_after(seconds: float) -> list[Any]:
        """The triggerer stops (its task cancelled) while the run is still going."""
        events: list[Any] = []

        async def collect() -> None:
            async for event in trigger.run():
                events.append(event)

        try:
            await asyncio.wait_for(collect(), seconds)
        except TimeoutError:
            pass
        finally:
            await close_shared_clients()
        return events

    assert asyncio.run(stopped_after(0.8)) == [], "the run was still going when the triggerer stopped"
    _, kwargs = trigger.serialize()
    restarted = AEPFlowRunTrigger(**json.loads(json.dumps(kwargs)))
    assert restarted.schedule == trigger.schedule

    event = run_trigger(restarted)

    assert event["status"] == "finished"
    assert [(run["run_id"], run["raw_status"]) for run in event["runs"]] == [(run_id, "failed")]
    verdict = restarted.target.verdict(TriggerOutcome.from_event(event).reports)
    assert verdict.failed
    assert "CONNECTOR-2001-500" in verdict.message
    assert run_trigger(AEPFlowRunTrigger(**kwargs)) == event, "the same kwargs, the same verdict"
