"""What each poke of ``AEPFlowRunSensor`` costs besides its ``GET /runs/{id}``: no connection look-up and
no XCom push once the first poke did them (benchmarks/sensor_poke.py measures the time)."""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, midnight, start_run, task_context


def run_gets(emulator: RunningEmulator, run_id: str) -> int:
    return sum(
        1 for r in emulator.requests() if r["method"] == "GET" and r["path"].endswith(f"/runs/{run_id}")
    )


@pytest.fixture
def running(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> str:
    """A run that stays in progress for the whole test."""
    aep.configure(run_duration_seconds=3600)
    return start_run(hook, make_flow(start_time=FAR_FUTURE))


def test_pokes_read_the_connection_once_and_push_each_link_id_once(
    aep: RunningEmulator, running: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    original = AEPHook.get_connection.__func__  # type: ignore[attr-defined]

    def counted(cls: type[AEPHook], conn_id: str) -> Any:
        lookups.append(conn_id)
        return original(cls, conn_id)

    monkeypatch.setattr(AEPHook, "get_connection", classmethod(counted))
    task = AEPFlowRunSensor(task_id="wait", flow_run_id=running, deferrable=False)
    context = task_context(midnight(1), midnight(0))
    for _ in range(5):
        assert task.poke(context) is False
    assert run_gets(aep, running) == 5  # every poke does look
    assert lookups == ["aep_default"]
    pushes = [call.kwargs["key"] for call in context["ti"].xcom_push.call_args_list]
    assert sorted(pushes) == ["flow_id", "flow_run_id"]
    assert context["ti"].pushed["flow_run_id"] == running


def test_a_new_task_instance_gets_the_link_ids_pushed_again(aep: RunningEmulator, running: str) -> None:
    """A reschedule-mode poke runs in a new try with a new task instance: it pushes the ids again."""
    task = AEPFlowRunSensor(task_id="wait", flow_run_id=running, deferrable=False)
    first, second = task_context(midnight(1), midnight(0)), task_context(midnight(1), midnight(0))
    assert task.poke(first) is False
    assert task.poke(second) is False
    assert task.poke(second) is False
    assert first["ti"].pushed["flow_run_id"] == second["ti"].pushed["flow_run_id"] == running
    assert second["ti"].xcom_push.call_count == 2
