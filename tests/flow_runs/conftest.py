"""Fixtures for the flow-run tests: a PayPal dataflow (seed 001) in the emulator, made through the hook."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest

from airflow_provider_aep.emulator.testing import RunningEmulator
from airflow_provider_aep.hooks._core import TOKENS
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.models.responses import created_id

PAYPAL_SPEC = {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"}
DATA_LAKE_SPEC = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
CRM_TO_AEP = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}
DAY = 86400

MakeFlow = Callable[..., str]


@pytest.fixture
def aep(aep_env: RunningEmulator) -> Iterator[RunningEmulator]:
    """A clean emulator that ``aep_default`` points at, with no token left from another test."""
    TOKENS.clear()
    yield aep_env
    TOKENS.clear()


@pytest.fixture
def hook(aep: RunningEmulator) -> Iterator[AEPHook]:
    with AEPHook() as aep_hook:
        yield aep_hook


@pytest.fixture
def make_flow(hook: AEPHook) -> MakeFlow:
    """Create the seed 001 PayPal -> data lake dataflow and return its id.

    Keyword arguments: ``frequency`` (default ``once``), ``interval``, ``start_time`` (epoch
    seconds, default now), ``name``.
    """
    counter = iter(range(1000))

    def make(
        frequency: str = "once",
        interval: int | None = None,
        start_time: int | None = None,
        name: str | None = None,
    ) -> str:
        suffix = name or f"flow {next(counter)}"
        base = post(hook, "flowservice", "/connections", _base_connection(suffix))
        source = post(hook, "flowservice", "/sourceConnections", _source_connection(suffix, base))
        schema = hook.post(
            "schemaregistry",
            "/tenant/schemas",
            json={
                "type": "object",
                "title": f"PayPal products {suffix}",
                "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
            },
        )["$id"]
        content_type = "application/vnd.adobe.xed-full+json;version=1"
        dataset = post(
            hook,
            "catalog",
            "/dataSets",
            {"name": f"PayPal products {suffix}", "schemaRef": {"id": schema, "contentType": content_type}},
        )
        target = post(
            hook,
            "flowservice",
            "/targetConnections",
            {
                "name": f"Data lake {suffix}",
                "data": {"schema": {"id": schema, "version": content_type}},
                "params": {"dataSetId": dataset},
                "connectionSpec": DATA_LAKE_SPEC,
            },
        )
        mapping = post(
            hook,
            "conversion",
            "/mappingSets",
            {
                "version": 0,
                "xdmSchema": schema,
                "xdmVersion": "1.0",
                "mappings": [{"destinationXdmPath": "_id", "sourceAttribute": "Product_Id", "version": 0}],
            },
        )
        schedule: dict[str, Any] = {
            "startTime": str(start_time if start_time is not None else int(time.time())),
            "frequency": frequency,
        }
        if interval is not None:
            schedule["interval"] = str(interval)
        return post(
            hook,
            "flowservice",
            "/flows",
            {
                "name": f"PayPal dataflow {suffix}",
                "flowSpec": CRM_TO_AEP,
                "sourceConnectionIds": [source],
                "targetConnectionIds": [target],
                "transformations": [
                    {"name": "Copy", "params": {"deltaColumn": {"name": "Update_Time"}}},
                    {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}},
                ],
                "scheduleParams": schedule,
            },
        )

    return make


def post(hook: AEPHook, service: str, path: str, body: dict[str, Any]) -> str:
    return created_id(hook.post(service, path, json=body))


def _base_connection(suffix: str) -> dict[str, Any]:
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


def _source_connection(suffix: str, base: str) -> dict[str, Any]:
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


def task_context(start: int, end: int, **extra: Any) -> dict[str, Any]:
    """The bits of an Airflow context the flow-run tasks read: the data interval and an XCom sink."""
    import datetime

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
