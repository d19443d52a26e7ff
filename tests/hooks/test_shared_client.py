"""One ``httpx.Client`` per process: hooks and sensor pokes do not build one per call."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks import aep as aep_module
from airflow_provider_aep.hooks.aep import AEPHook, shared_client


def test_every_hook_of_a_process_shares_one_client(aep_env: RunningEmulator) -> None:
    with AEPHook() as first, AEPHook(sandbox="dev") as second:
        assert first.client is second.client is shared_client()
        first.get("flowservice", "/flowSpecs")
    assert not shared_client().is_closed, "closing a hook leaves the shared client open"


def test_a_forked_process_gets_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = shared_client()
    monkeypatch.setattr(os, "getpid", lambda: -1)
    child = shared_client()
    assert child is not parent
    monkeypatch.undo()
    aep_module._clients.clear()


def test_sensor_pokes_build_no_client(aep_env: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each poke used to build (and leak) an httpx.Client: tens of ms of CPU for its TLS context."""
    from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

    shared_client()  # the process's client exists before the pokes
    built: list[Any] = []
    real_init = httpx.Client.__init__

    def counting_init(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", counting_init)
    sensor = AEPFlowRunSensor(task_id="wait", flow_run_id="00000000-0000-0000-0000-000000000000")
    context: Any = {"ti": None}
    for _ in range(5):
        with pytest.raises(Exception, match="404"):
            sensor.poke(context)
    assert built == []
