"""Fixtures for the flow-run tests: a PayPal dataflow (seed 001) in the emulator, made through the hook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks._core import TOKENS
from airflow_provider_aep.hooks.aep import AEPHook
from tests.flow_runs.flow_run_helpers import (
    CRM_TO_AEP,
    DATA_LAKE_SPEC,
    MakeFlow,
    base_connection_body,
    post,
    source_connection_body,
)


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
        base = post(hook, "flowservice", "/connections", base_connection_body(suffix))
        source = post(hook, "flowservice", "/sourceConnections", source_connection_body(suffix, base))
        schema = hook.post(
            "schemaregistry",
            "/tenant/schemas",
            json={
                "type": "object",
                "title": f"PayPal products {suffix}",
                "description": "Target schema of the flow-run tests",
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
