"""AEPFlowRunSensor against the emulator, in poke and deferrable modes, by run id and by window."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException, TaskDeferred

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPFlowRunFailedError
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.flow_runs.flow_run_helpers import (
    DAY,
    FAR_FUTURE,
    MakeFlow,
    midnight,
    planned_window,
    run_trigger,
    runs_in_state,
    start_run,
    task_context,
)


def sensor(**kwargs: Any) -> AEPFlowRunSensor:
    kwargs.setdefault("poke_interval", 0.2)
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("deferrable", False)
    return AEPFlowRunSensor(task_id="wait", **kwargs)


def deferred_result(task: AEPFlowRunSensor, context: Any) -> Any:
    """Execute a deferrable sensor as the task runner would: defer, run the trigger, resume."""
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    return resume(task, context, deferred.value)


def resume(task: AEPFlowRunSensor, context: Any, deferred: TaskDeferred) -> Any:
    event = run_trigger(deferred.trigger)
    return task.resume_execution("execute_complete", {"event": event}, context)


@pytest.mark.parametrize("deferrable", [False, True])
def test_waits_for_a_run_by_id(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow)
    context = task_context(midnight(1), midnight(0))
    task = sensor(flow_run_id=run_id, deferrable=deferrable)
    result = deferred_result(task, context) if deferrable else task.execute(context)
    assert result == run_id
    pushed = context["ti"].pushed
    assert (pushed["flow_run_id"], pushed["flow_id"]) == (run_id, flow)
    assert pushed["run_report"]["run_ids"] == [run_id]
    assert pushed["run_report"]["records"]["failed"] == 0


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_run_fails_with_its_error_code(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed", [{"code": "CONNECTOR-1001-500", "message": "no such column"}])
    task = sensor(flow_run_id=start_run(hook, flow), deferrable=deferrable)
    context = task_context(midnight(1), midnight(0))
    with pytest.raises(AEPFlowRunFailedError, match=r"CONNECTOR-1001-500.*no such column"):
        deferred_result(task, context) if deferrable else task.execute(context)


@pytest.mark.parametrize("deferrable", [False, True])
def test_soft_fail_skips_a_failed_run(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed")
    task = sensor(flow_run_id=start_run(hook, flow), deferrable=deferrable, soft_fail=True)
    context = task_context(midnight(1), midnight(0))
    with pytest.raises(AirflowSkipException):
        deferred_result(task, context) if deferrable else task.execute(context)


@pytest.mark.parametrize(
    ("soft_fail", "raised"), [(False, AirflowSensorTimeout), (True, AirflowSkipException)]
)
@pytest.mark.parametrize("deferrable", [False, True])
def test_timeout_fails_or_skips(
    aep: RunningEmulator,
    hook: AEPHook,
    make_flow: MakeFlow,
    deferrable: bool,
    soft_fail: bool,
    raised: type[Exception],
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.configure(run_duration_seconds=60)
    task = sensor(flow_run_id=start_run(hook, flow), deferrable=deferrable, soft_fail=soft_fail, timeout=0.5)
    context = task_context(midnight(1), midnight(0))
    with pytest.raises(raised):
        deferred_result(task, context) if deferrable else task.execute(context)


@pytest.mark.parametrize("deferrable", [False, True])
def test_waits_for_the_scheduled_runs_covering_the_data_interval(
    aep: RunningEmulator, make_flow: MakeFlow, deferrable: bool
) -> None:
    # AEP schedules from the next grid point on: move the emulated clock to just after the run of
    # the day after tomorrow, which covers tomorrow and is still in progress
    flow = make_flow(frequency="day", interval=1, start_time=midnight(-1))
    aep.advance_clock(midnight(-2) - time.time() + 0.1)
    context = task_context(midnight(-1), midnight(-2))
    task = sensor(flow_id=flow, deferrable=deferrable, timeout=10)
    result = deferred_result(task, context) if deferrable else task.execute(context)
    covering = [
        run["id"] for run in runs_in_state(aep, flow) if planned_window(run) == (midnight(-1), midnight(-2))
    ]
    assert result == covering
    assert len(covering) == 1
    pushed = context["ti"].pushed
    assert (pushed["flow_run_id"], pushed["flow_id"]) == (covering[0], flow)
    assert pushed["run_report"]["run_ids"] == covering


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_scheduled_run_in_the_window_fails(
    aep: RunningEmulator, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(frequency="day", interval=1, start_time=midnight(-1))
    aep.set_flow_outcome(flow, "failed", [{"code": "CONNECTOR-2001-500", "message": "source down"}])
    aep.advance_clock(2 * DAY + 60)
    task = sensor(flow_id=flow, deferrable=deferrable, timeout=5)
    context = task_context(midnight(-1), midnight(-2))
    with pytest.raises(AEPFlowRunFailedError, match="CONNECTOR-2001-500"):
        task.execute(context)  # the runs ended already: even a deferrable sensor needs no trigger


def test_needs_a_run_id_or_a_flow_id() -> None:
    with pytest.raises(ValueError, match="flow_run_id"):
        AEPFlowRunSensor(task_id="wait")
