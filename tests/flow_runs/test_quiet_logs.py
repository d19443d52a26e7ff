"""Quiet, helpful logs: a long wait says where it is every few polls (not every poll) in poke and
deferrable modes, links never ask XCom for a key the task did not push, ``deferrable`` defaults honestly."""

from __future__ import annotations

import inspect
import logging
import re
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.flow_runs.interpretation import FlowRunReport
from airflow_provider_aep.flow_runs.progress import WaitProgress, elapsed_text
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.links import AEPFlowRunLink
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.flow_runs.flow_run_helpers import (
    FAR_FUTURE,
    MakeFlow,
    midnight,
    run_trigger,
    start_run,
    task_context,
)

PROGRESS = re.compile(r"Still waiting for .*\(poll (\d+), [^)]*\): (.*)")


def progress_lines(text: str) -> list[tuple[int, str]]:
    """The progress lines logged, by poll (a line may be captured twice: logging and structlog)."""
    return sorted({int(match.group(1)): match.group(2) for match in PROGRESS.finditer(text)}.items())


def run(run_id: str, status: str | None, read: int = 0) -> FlowRunReport:
    records = {"inputRecordCount": read, "outputRecordCount": read}
    return FlowRunReport(run_id, "flow", status, records=records)


def test_progress_is_due_on_the_first_poll_on_a_status_change_and_every_ten_polls_or_five_minutes() -> None:
    now = [0.0]
    progress = WaitProgress("AEP flow run r1", clock=lambda: now[0])
    logged = []
    for poll in range(1, 36):
        now[0] += 1.0
        status = "scheduled" if poll < 5 else "inProgress"
        line = progress.poll([run("r1", status, read=poll)])
        if line:
            logged.append(poll)
    assert logged == [1, 5, 15, 25, 35]  # first, status change, then every 10th poll
    now[0] += 301.0  # a slow poll: five minutes without a line
    line = progress.poll([run("r1", "inProgress", read=99)])
    assert line == (
        "Still waiting for AEP flow run r1 (poll 36, 5 min 35 s): run(s) r1 inProgress; "
        "records so far: 99 read, 99 written, 0 failed"
    )
    assert WaitProgress("runs of AEP dataflow f over [0, 1)").poll([]) is not None
    assert "no run yet" in (WaitProgress("x").poll([]) or "")
    assert [elapsed_text(s) for s in (42, 303, 7800)] == ["42 s", "5 min 3 s", "2 h 10 min"]


def test_a_poke_wait_logs_progress_every_few_polls_not_every_poll(
    aep: RunningEmulator,
    make_flow: MakeFlow,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    aep.configure(run_duration_seconds=3)
    flow = make_flow(start_time=FAR_FUTURE)
    task = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.05, deferrable=False
    )
    with caplog.at_level(logging.INFO):
        task.execute(task_context(midnight(2), midnight(1)))
    logged = progress_lines(caplog.text + "".join(capfd.readouterr()))
    polls = [r for r in aep.requests() if r["method"] == "GET" and re.fullmatch(r".*/runs/[^/]+", r["path"])]
    assert len(polls) >= 30, "the run did not last long enough to show the rate"
    assert 2 <= len(logged) <= len(polls) // 10 + 3, logged  # not one line a poll
    assert logged[0][0] == 1
    assert all("records so far:" in text and " read, " in text for _, text in logged)
    assert any(re.search(r" (scheduled|inProgress);", text) for _, text in logged)


def test_a_poking_sensor_logs_progress_every_few_pokes(
    aep: RunningEmulator,
    hook: AEPHook,
    make_flow: MakeFlow,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    aep.configure(run_duration_seconds=3)
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow)
    task = AEPFlowRunSensor(
        task_id="wait", flow_run_id=run_id, poke_interval=0.05, timeout=60, deferrable=False
    )
    with caplog.at_level(logging.INFO):
        task.execute(task_context(midnight(1), midnight(0)))
    logged = progress_lines(caplog.text + "".join(capfd.readouterr()))
    polls = [r for r in aep.requests() if r["path"].endswith(f"/runs/{run_id}")]
    assert len(polls) >= 30
    assert 2 <= len(logged) <= len(polls) // 10 + 3, logged
    assert logged[0][0] == 1


def test_a_deferred_wait_logs_its_progress_in_the_triggerer(
    aep: RunningEmulator,
    hook: AEPHook,
    make_flow: MakeFlow,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    aep.configure(run_duration_seconds=3)
    flow = make_flow(start_time=FAR_FUTURE)
    task = AEPFlowRunSensor(
        task_id="wait", flow_run_id=start_run(hook, flow), poke_interval=0.05, timeout=60, deferrable=True
    )
    context = task_context(midnight(1), midnight(0))
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    with caplog.at_level(logging.INFO):
        event = run_trigger(deferred.value.trigger)
    assert event["status"] == "finished"
    logged = progress_lines(caplog.text + "".join(capfd.readouterr()))
    assert 2 <= len(logged) <= 12, logged  # about 50 polls over 3 s
    assert logged[0][0] == 1


def test_links_are_built_from_what_the_task_pushed_and_never_ask_xcom(
    monkeypatch: pytest.MonkeyPatch, aep: RunningEmulator, make_flow: MakeFlow
) -> None:
    """Airflow builds the links after every run of a task, also when it defers; a window-mode sensor
    that found no run yet has pushed no ``flow_run_id``: asking XCom for it logged ``[error] XCom not
    found`` in a task that was fine."""
    from airflow.sdk.execution_time import xcom as xcom_module

    asked: list[str] = []
    monkeypatch.setattr(
        xcom_module.XCom, "get_value", classmethod(lambda cls, *, ti_key, key: asked.append(key))
    )
    flow = make_flow(frequency="hour", interval=1, start_time=int(time.time()))
    next_hour = (int(time.time()) // 3600 + 1) * 3600
    task = AEPFlowRunSensor(
        task_id="wait",
        flow_id=flow,
        window_start=str(next_hour),
        window_end=str(next_hour + 3600),
        deferrable=True,
        poke_interval=1,
        timeout=60,
    )
    context: Any = task_context(midnight(1), midnight(0), task=task)
    with pytest.raises(TaskDeferred):
        task.execute(context)  # no run covers the next hour yet
    assert set(context["ti"].pushed) == {"flow_id"}
    link: Any = AEPFlowRunLink()
    assert link.get_link(task, ti_key=None) == ""  # what the task runner does at deferral
    assert asked == []


def test_a_resumed_deferred_task_still_has_its_link(aep: RunningEmulator, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    first = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2, deferrable=True
    )
    context: dict[str, Any] = task_context(midnight(2), midnight(1))
    first_context: Any = {**context, "task": first}
    with pytest.raises(TaskDeferred) as deferred:
        first.execute(first_context)
    event = run_trigger(deferred.value.trigger)
    # Airflow resumes the task in a new process: a fresh operator object, nothing remembered.
    resumed = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2, deferrable=True
    )
    resumed_context: Any = {**context, "task": resumed}
    run_id = resumed.execute_complete(resumed_context, event)
    link: Any = AEPFlowRunLink()
    assert link.get_link(resumed, ti_key=None).endswith(f"/platform/source/dataflows/{flow}/runs/{run_id}")


def test_deferrable_shows_its_real_default_and_reads_the_config_when_constructed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for cls in (AEPTriggerFlowRunOperator, AEPFlowRunSensor):
        parameter = inspect.signature(cls.__init__).parameters["deferrable"]
        assert parameter.default is None, cls
        assert "default_deferrable" in (cls.__doc__ or ""), cls
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert AEPTriggerFlowRunOperator(task_id="a", flow_id="f").deferrable is True
    assert AEPFlowRunSensor(task_id="b", flow_run_id="r").deferrable is True
    assert AEPFlowRunSensor(task_id="c", flow_run_id="r", deferrable=False).deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert AEPTriggerFlowRunOperator(task_id="d", flow_id="f").deferrable is False
    with pytest.raises(AEPConfigError, match=r"^deferrable: must be True, False or None"):
        AEPFlowRunSensor(task_id="e", flow_run_id="r", deferrable="yes")  # type: ignore[arg-type]
