"""AEPTriggerFlowRunOperator against the emulator: one run per data interval, never two, fail closed."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any
from unittest import mock

import pytest
from airflow.sdk.exceptions import TaskDeferred

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPFlowRunFailedError
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from tests.flow_runs.flow_run_helpers import (
    FAR_FUTURE,
    MakeFlow,
    midnight,
    planned_window,
    run_trigger,
    run_window,
    runs_in_state,
    task_context,
)


def operator(flow_id: str, **kwargs: Any) -> AEPTriggerFlowRunOperator:
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("deferrable", False)
    return AEPTriggerFlowRunOperator(task_id="ingest", flow_id=flow_id, delta_column="Update_Time", **kwargs)


def run_windows(runs: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return sorted(planned_window(run) for run in runs)


def test_backfill_of_three_days_is_three_windowed_runs(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    intervals = [(midnight(d + 1), midnight(d)) for d in (5, 4, 3)]
    contexts = [task_context(start, end) for start, end in intervals]
    run_ids = [operator(flow).execute(context) for context in contexts]

    runs = runs_in_state(aep, flow)
    assert len(set(run_ids)) == 3
    assert run_windows(runs) == intervals
    counts = {run["plan"]["input"] for run in runs}
    assert len(counts) == 3, "the sample table has a different row count each day"
    pushed = [context["ti"].pushed for context in contexts]
    assert [(p["flow_run_id"], p["flow_id"]) for p in pushed] == [(run_id, flow) for run_id in run_ids]
    planned = {run["id"]: run["plan"]["input"] for run in runs}
    assert [p["run_report"]["records"]["read"] for p in pushed] == [planned[run_id] for run_id in run_ids]
    assert [p["run_report"]["window"] for p in pushed] == [list(window) for window in intervals]


def test_rerun_for_the_same_window_reuses_the_run(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    window = (midnight(2), midnight(1))
    first = operator(flow).execute(task_context(*window))
    second = operator(flow).execute(task_context(*window))
    assert first == second
    assert len(runs_in_state(aep, flow)) == 1


def test_lost_post_answer_is_looked_up_not_repeated(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.add_faults(
        [{"method": "POST", "path": "/data/foundation/flowservice/runs", "status": 502, "after_commit": True}]
    )
    run_id = operator(flow, wait_for_completion=False).execute(task_context(midnight(2), midnight(1)))
    runs = runs_in_state(aep, flow)
    assert [run["id"] for run in runs] == [run_id]
    posts = [r for r in aep.requests() if r["method"] == "POST" and r["path"].endswith("/runs")]
    assert len(posts) == 1


@pytest.mark.parametrize("shape", ["spec", "items", "run"])
def test_every_post_runs_answer_shape_is_read(aep: RunningEmulator, make_flow: MakeFlow, shape: str) -> None:
    aep.configure(post_runs_shape=shape)
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = operator(flow, wait_for_completion=False).execute(task_context(midnight(2), midnight(1)))
    assert [run["id"] for run in runs_in_state(aep, flow)] == [run_id]


def test_a_failed_run_fails_the_task_with_its_error_code(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    errors = [{"code": "CONNECTOR-2001-500", "message": "PayPal refused the request"}]
    aep.set_flow_outcome(flow, "failed", errors)
    with pytest.raises(AEPFlowRunFailedError, match="CONNECTOR-2001-500") as failure:
        operator(flow).execute(task_context(midnight(2), midnight(1)))
    assert "PayPal refused the request" in str(failure.value)


def test_a_failed_run_is_not_reused_by_a_retry(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    window = (midnight(2), midnight(1))
    aep.set_flow_outcome(flow, "failed")
    with pytest.raises(AEPFlowRunFailedError):
        operator(flow).execute(task_context(*window))
    aep.set_flow_outcome(flow, "success")
    operator(flow).execute(task_context(*window))
    assert len(runs_in_state(aep, flow)) == 2


def test_a_failed_run_fails_the_task_in_deferrable_mode(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed", [{"code": "INGEST-1212-400", "message": "bad batch"}])
    task = operator(flow, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context(midnight(2), midnight(1)))
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "finished"
    with pytest.raises(AEPFlowRunFailedError, match="INGEST-1212-400"):
        task.execute_complete({}, event)


def test_deferrable_success_returns_the_run_id(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    task = operator(flow, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context(midnight(2), midnight(1)))
    assert task.execute_complete({}, run_trigger(deferred.value.trigger)) == runs_in_state(aep, flow)[0]["id"]


@pytest.mark.parametrize(("allow", "fails"), [(False, True), (True, False)])
def test_partial_success_fails_unless_allowed(
    aep: RunningEmulator, make_flow: MakeFlow, allow: bool, fails: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "partialSuccess")
    task = operator(flow, allow_partial_success=allow)
    if fails:
        with pytest.raises(AEPFlowRunFailedError, match="partialSuccess"):
            task.execute(task_context(midnight(2), midnight(1)))
    else:
        assert task.execute(task_context(midnight(2), midnight(1)))


def test_an_unknown_status_fails_naming_it(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "cancelledByAdmin")
    with pytest.raises(AEPFlowRunFailedError, match="unknown status 'cancelledByAdmin'"):
        operator(flow).execute(task_context(midnight(2), midnight(1)))


def test_a_token_expired_mid_wait_is_renewed(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=2)
    expiry = threading.Timer(0.6, aep.expire_tokens)
    expiry.start()
    try:
        operator(flow).execute(task_context(midnight(2), midnight(1)))
    finally:
        expiry.cancel()
    requests = aep.requests()
    assert sum(r["path"].endswith("/ims/token/v3") for r in requests) == 2
    assert any(r["status"] == 401 for r in requests)


def test_a_run_without_data_interval_ingests_the_last_full_day_before_it(
    hook: AEPHook, make_flow: MakeFlow
) -> None:
    """A DAG run triggered from the CLI or REST API without a logical date has no data interval."""
    flow = make_flow(start_time=FAR_FUTURE)
    context = task_context(0, 0)
    del context["data_interval_start"], context["data_interval_end"]
    run_after = datetime.datetime.fromtimestamp(midnight(0) + 5 * 3600 + 7, tz=datetime.timezone.utc)
    context["dag_run"] = mock.Mock(logical_date=None, run_after=run_after)
    run_id = operator(flow, wait_for_completion=False).execute(context)
    assert run_window(hook, run_id) == (midnight(1), midnight(0))


def test_an_empty_data_interval_falls_back_to_the_day_before_the_logical_date(
    hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    logical = datetime.datetime.fromtimestamp(midnight(3) + 60, tz=datetime.timezone.utc)
    context = task_context(midnight(3) + 60, midnight(3) + 60, logical_date=logical)
    run_id = operator(flow, wait_for_completion=False).execute(context)
    assert run_window(hook, run_id) == (midnight(4), midnight(3))


def test_a_bound_given_alone_is_completed_and_checked() -> None:
    from airflow_provider_aep.exceptions import AEPConfigError
    from airflow_provider_aep.flow_runs.waiting import resolve_window

    context = task_context(midnight(2), midnight(1))
    assert resolve_window(str(midnight(2) + 3600), None, context) == (midnight(2) + 3600, midnight(1))
    with pytest.raises(AEPConfigError, match="window_end must be after window_start"):
        resolve_window(midnight(1), None, context)
    with pytest.raises(AEPConfigError, match="window_start must be a datetime"):
        resolve_window("yesterday", None, context)


def test_a_deferred_wait_ends_at_the_tasks_execution_timeout(
    aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    from airflow_provider_aep.exceptions import AEPError

    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=60)
    task = operator(flow, deferrable=True, timeout=3600, execution_timeout=datetime.timedelta(seconds=1))
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context(midnight(2), midnight(1)))
    assert deferred.value.trigger.deadline - time.time() <= 1.0
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "timeout"
    with pytest.raises(AEPError, match="Timed out after 1 s"):
        task.execute_complete({}, event)
