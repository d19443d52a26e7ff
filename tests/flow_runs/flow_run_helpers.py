"""Helpers of the flow-run tests: contexts, windows, emulator state, running a trigger like a triggerer."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.hooks.aep_async import close_shared_clients
from airflow_provider_aep.models.responses import created_id

DAY = 86400
#: start time of a ``once`` dataflow that never runs on its own during a test
FAR_FUTURE = int(time.time()) + 3650 * DAY

MakeFlow = Callable[..., str]

PAYPAL_SPEC = {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"}
DATA_LAKE_SPEC = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
CRM_TO_AEP = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}


def post(hook: AEPHook, service: str, path: str, body: dict[str, Any]) -> str:
    return created_id(hook.post(service, path, json=body))


def base_connection_body(suffix: str) -> dict[str, Any]:
    return {
        "name": f"PayPal {suffix}",
        "auth": {
            "specName": "Client-Id-Secret Based Authentication",
            "params": {
                "host": "https://api-m.sandbox.paypal.com",
                "clientId": "id",
                "clientSecret": "s3cret",
            },
        },
        "connectionSpec": PAYPAL_SPEC,
    }


def source_connection_body(suffix: str, base: str) -> dict[str, Any]:
    return {
        "name": f"PayPal source {suffix}",
        "baseConnectionId": base,
        "data": {"format": "tabular"},
        "params": {"tableName": "PayPal.Catalog_Products"},
        "connectionSpec": PAYPAL_SPEC,
    }


def runs_in_state(emulator: RunningEmulator, flow_id: str | None = None) -> list[dict[str, Any]]:
    """The runs the emulator holds (of one dataflow if given)."""
    runs: list[dict[str, Any]] = emulator.state().get("prod", {}).get("runs", [])
    return [run for run in runs if flow_id is None or run.get("flowId") == flow_id]


def task_context(start: int, end: int, **extra: Any) -> Any:
    """The bits of an Airflow context the flow-run tasks read: the data interval and an XCom sink."""
    ti = mock.MagicMock(name="ti")
    pushed: dict[str, Any] = {}
    ti.xcom_push.side_effect = lambda key, value: pushed.__setitem__(key, value)
    ti.pushed = pushed
    return {
        "ti": ti,
        "data_interval_start": datetime.datetime.fromtimestamp(start, tz=datetime.timezone.utc),
        "data_interval_end": datetime.datetime.fromtimestamp(end, tz=datetime.timezone.utc),
        **extra,
    }


def midnight(days_ago: int) -> int:
    """Epoch seconds of UTC midnight ``days_ago`` days before today."""
    return (int(time.time()) // DAY - days_ago) * DAY


def planned_window(run: dict[str, Any]) -> tuple[int, int]:
    """The window the emulator planned a run for (epoch seconds), from its admin state."""
    start_ms, end_ms = run["plan"]["windowMs"]
    return int(start_ms) // 1000, int(end_ms) // 1000


def run_window(hook: AEPHook, run_id: str) -> tuple[int, int]:
    """A run's window in epoch seconds as a client reads it from ``GET /runs/{id}``.

    Adobe's monitoring example puts it in the copy activity's ``durationSummary.extensions``
    (``windowStart``/``windowEnd``, epoch ms); some variants echo ``params`` (seconds) instead.
    """
    item = hook.get_item("flowservice", f"/runs/{run_id}")
    for activity in item.get("activities") or []:
        extensions = (activity.get("durationSummary") or {}).get("extensions") or {}
        if "windowStart" in extensions:
            return int(extensions["windowStart"]) // 1000, int(extensions["windowEnd"]) // 1000
    params = item.get("params") or {}
    return int(params["windowStartTime"]), int(params["windowEndTime"])


def run_trigger(trigger: Any, during: Any = None) -> dict[str, Any]:
    """Run a trigger to its first event in a fresh event loop, as the triggerer would."""

    async def first_event() -> dict[str, Any]:
        side_task = asyncio.create_task(asyncio.to_thread(during)) if during else None
        try:
            async for event in trigger.run():
                payload: dict[str, Any] = event.payload
                return payload
            raise AssertionError("the trigger ended without an event")
        finally:
            if side_task is not None:
                await side_task
            await close_shared_clients()

    return asyncio.run(first_event())


def start_run(hook: AEPHook, flow_id: str, days_ago: int = 1) -> str:
    end = (int(time.time()) // DAY - days_ago + 1) * DAY
    body = {
        "flowId": flow_id,
        "params": {
            "startTime": int(time.time()),
            "windowStartTime": end - DAY,
            "windowEndTime": end,
            "deltaColumn": {"name": "Update_Time"},
        },
    }
    return post(hook, "flowservice", "/runs", body)
