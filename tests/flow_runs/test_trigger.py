"""AEPFlowRunTrigger: serialization without secrets, and its run loop driven directly with asyncio."""

from __future__ import annotations

import json
import os
import time

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.triggers.flow_run import AEPFlowRunTrigger
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, run_trigger, runs_in_state, start_run


def test_serialization_round_trip_holds_no_secret(aep: RunningEmulator) -> None:
    trigger = AEPFlowRunTrigger(
        deadline=1234.5, run_ids=["r1"], aep_conn_id="aep_default", sandbox="dev", poll_interval=5
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_aep.triggers.flow_run.AEPFlowRunTrigger"
    assert set(kwargs) == {
        "deadline",
        "aep_conn_id",
        "sandbox",
        "run_ids",
        "flow_id",
        "window_start",
        "window_end",
        "poll_interval",
    }
    text = json.dumps(kwargs)
    assert aep.client_secret not in text
    assert aep.client_id not in text
    again = AEPFlowRunTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)


def test_run_loop_reports_the_finished_run(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow)
    event = run_trigger(AEPFlowRunTrigger(deadline=time.time() + 30, run_ids=[run_id], poll_interval=0.2))
    assert event["status"] == "finished"
    assert [(run["run_id"], run["raw_status"]) for run in event["runs"]] == [(run_id, "success")]
    assert event["runs"][0]["records"]["inputRecordCount"] == runs_in_state(aep, flow)[0]["plan"]["input"]


def test_run_loop_yields_timeout_at_the_deadline(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=60)
    run_id = start_run(hook, flow)
    started = time.monotonic()
    event = run_trigger(AEPFlowRunTrigger(deadline=time.time() + 0.6, run_ids=[run_id], poll_interval=0.2))
    assert event["status"] == "timeout"
    assert time.monotonic() - started < 5
    assert event["runs"][0]["raw_status"] in ("scheduled", "inProgress")


def test_run_loop_reports_an_unknown_run_as_error(aep: RunningEmulator) -> None:
    trigger = AEPFlowRunTrigger(
        deadline=time.time() + 30, run_ids=["00000000-0000-0000-0000-000000000000"], poll_interval=0.2
    )
    event = run_trigger(trigger)
    assert event["status"] == "error"
    assert "404" in event["message"]


def test_run_loop_renews_a_token_expired_mid_wait(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=2)
    run_id = start_run(hook, flow)

    def expire_later() -> None:
        time.sleep(0.7)
        aep.expire_tokens()

    event = run_trigger(
        AEPFlowRunTrigger(deadline=time.time() + 30, run_ids=[run_id], poll_interval=0.2), during=expire_later
    )
    assert event["status"] == "finished"
    assert event["runs"][0]["raw_status"] == "success"
    assert any(r["status"] == 401 for r in aep.requests())


def test_transient_errors_are_waited_out(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow)
    aep.add_faults(
        [{"method": "GET", "path": "/data/foundation/flowservice/runs", "status": 503, "times": 2}]
    )
    event = run_trigger(AEPFlowRunTrigger(deadline=time.time() + 30, run_ids=[run_id], poll_interval=0.2))
    assert event["status"] == "finished"
    assert sum(r["status"] == 503 for r in aep.requests()) == 2


def test_retry_after_is_honoured_once_the_hooks_retries_are_spent(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 left over after the hook's tries: the next poll waits what ``Retry-After`` asked, not less."""
    connection = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    connection["extra"]["max_attempts"] = 1  # the hook gives up at once: the trigger's loop decides
    monkeypatch.setenv("AIRFLOW_CONN_AEP_ONE_TRY", json.dumps(connection))
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow)
    aep.add_faults(
        [{"method": "GET", "path": "/data/foundation/flowservice/runs", "status": 429, "retry_after": 2}]
    )
    trigger = AEPFlowRunTrigger(
        deadline=time.time() + 30, run_ids=[run_id], poll_interval=0.2, aep_conn_id="aep_one_try"
    )
    event = run_trigger(trigger)
    assert event["status"] == "finished"
    polls = [r for r in aep.requests() if r["method"] == "GET" and r["path"].endswith("/flowservice/runs")]
    assert polls[0]["status"] == 429
    assert polls[1]["time"] - polls[0]["time"] >= 1.9, "the next poll came before Retry-After"
