"""The flow-run guarantees under every way Adobe's documents show a run (a matrix, not one happy shape).

Where a run item shows its window is the emulator's ``run_window_fields``: ``activity`` (the default,
help/sources/tutorials/api/monitor.md), ``activity_and_params``, ``params`` (the draft
create-flow-runs page) and ``none`` (help/dataflows/api/monitor.md). The answer of ``POST /runs`` is
``post_runs_shape``. Under each: a task retry never starts a second run of a window, a lost
``POST /runs`` answer never makes a second run, and window mode finds the runs of a data interval.
Where no window is shown, the first two fail closed (an error, no second run) instead of reusing.
"""

from __future__ import annotations

import datetime
import time
from typing import Any
from unittest import mock

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPError
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.flow_runs.flow_run_helpers import (
    FAR_FUTURE,
    MakeFlow,
    midnight,
    planned_window,
    runs_in_state,
    task_context,
)

VARIANTS = ["activity", "activity_and_params", "params", "none"]
SHOWS_WINDOW = {"activity": True, "activity_and_params": True, "params": True, "none": False}


def operator(flow_id: str) -> AEPTriggerFlowRunOperator:
    return AEPTriggerFlowRunOperator(
        task_id="ingest",
        flow_id=flow_id,
        delta_column="Update_Time",
        wait_for_completion=False,
        deferrable=False,
    )


def retry_context(window: tuple[int, int], dag_run_started: float) -> Any:
    """The context of the second try of a task in a DAG run that started at ``dag_run_started``."""
    context = task_context(*window)
    context["ti"].try_number = 2
    started = datetime.datetime.fromtimestamp(dag_run_started, tz=datetime.timezone.utc)
    context["dag_run"] = mock.Mock(start_date=started)
    return context


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_task_retry_never_starts_a_second_run_of_its_window(
    aep: RunningEmulator, make_flow: MakeFlow, variant: str
) -> None:
    aep.configure(run_window_fields=variant)
    flow = make_flow(start_time=FAR_FUTURE)
    window = (midnight(2), midnight(1))
    dag_run_started = time.time() - 1
    first = operator(flow).execute(task_context(*window))
    if SHOWS_WINDOW[variant]:
        assert operator(flow).execute(retry_context(window, dag_run_started)) == first
    else:
        with pytest.raises(AEPError, match=f"no data window on run\\(s\\) {first}"):
            operator(flow).execute(retry_context(window, dag_run_started))
    assert [run["id"] for run in runs_in_state(aep, flow)] == [first]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_retry_still_starts_its_own_window_beside_other_windows(
    aep: RunningEmulator, make_flow: MakeFlow, variant: str
) -> None:
    """Runs of other windows, made before this DAG run started, never block a retry."""
    aep.configure(run_window_fields=variant)
    flow = make_flow(start_time=FAR_FUTURE)
    other = operator(flow).execute(task_context(midnight(3), midnight(2)))
    mine = operator(flow).execute(retry_context((midnight(2), midnight(1)), time.time() + 1))
    assert mine != other
    assert sorted(planned_window(run) for run in runs_in_state(aep, flow)) == [
        (midnight(3), midnight(2)),
        (midnight(2), midnight(1)),
    ]


@pytest.mark.parametrize("shape", ["spec", "items", "run"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_lost_post_runs_answer_never_makes_a_second_run(
    aep: RunningEmulator, make_flow: MakeFlow, variant: str, shape: str
) -> None:
    aep.configure(run_window_fields=variant, post_runs_shape=shape)
    flow = make_flow(start_time=FAR_FUTURE)
    aep.add_faults(
        [{"method": "POST", "path": "/data/foundation/flowservice/runs", "status": 502, "after_commit": True}]
    )
    task = operator(flow)
    if SHOWS_WINDOW[variant]:
        run_id = task.execute(task_context(midnight(2), midnight(1)))
        assert [run["id"] for run in runs_in_state(aep, flow)] == [run_id]
    else:
        with pytest.raises(AEPError, match="the POST /runs answer was lost"):
            task.execute(task_context(midnight(2), midnight(1)))
        assert len(runs_in_state(aep, flow)) == 1
    posts = [r for r in aep.requests() if r["method"] == "POST" and r["path"].endswith("/runs")]
    assert len(posts) == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_window_mode_finds_the_scheduled_runs_of_a_data_interval(
    aep: RunningEmulator, make_flow: MakeFlow, variant: str
) -> None:
    aep.configure(run_window_fields=variant)
    flow = make_flow(frequency="day", interval=1, start_time=midnight(-1))
    aep.advance_clock(midnight(-3) - time.time() + 5)  # the runs at midnight(-1), (-2) and (-3) ended
    task = AEPFlowRunSensor(task_id="wait", flow_id=flow, poke_interval=0.2, timeout=10, deferrable=False)
    result = task.execute(task_context(midnight(-1), midnight(-2)))
    (covering,) = [
        run["id"] for run in runs_in_state(aep, flow) if planned_window(run) == (midnight(-1), midnight(-2))
    ]
    assert result == [covering]


@pytest.mark.parametrize("variant", VARIANTS)
def test_window_mode_fails_on_the_failed_run_of_its_interval(
    aep: RunningEmulator, make_flow: MakeFlow, variant: str
) -> None:
    from airflow_provider_aep.exceptions import AEPFlowRunFailedError

    aep.configure(run_window_fields=variant)
    flow = make_flow(frequency="day", interval=1, start_time=midnight(-1))
    aep.advance_clock(midnight(-3) - time.time() + 5)
    (failing,) = [
        run["id"] for run in runs_in_state(aep, flow) if planned_window(run) == (midnight(-1), midnight(-2))
    ]
    aep.set_run_outcome(failing, "failed", [{"code": "CONNECTOR-2001-500", "message": "source down"}])
    task = AEPFlowRunSensor(task_id="wait", flow_id=flow, poke_interval=0.2, timeout=10, deferrable=False)
    with pytest.raises(AEPFlowRunFailedError, match=failing):
        task.execute(task_context(midnight(-1), midnight(-2)))
    # the interval before and the one after are not affected by that run
    assert task.execute(task_context(midnight(-2), midnight(-3)))
