"""Bad operator inputs fail before any request reaches AEP, naming the field (table-driven)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators import (
    AEPCreateAdhocClassOperator,
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSchemaOperator,
    AEPCreateSourceConnectionOperator,
    AEPCreateTargetConnectionOperator,
    AEPDeleteConnectionOperator,
    AEPDeleteDataflowOperator,
    AEPEnableDataflowOperator,
    AEPGetDataflowOperator,
    AEPGetFlowSpecOperator,
    AEPSendStreamingEventsOperator,
    AEPTriggerFlowRunOperator,
    AEPUpdateBaseConnectionOperator,
    AEPUpdateDataflowOperator,
)
from airflow_provider_aep.sensors import AEPFlowRunSensor
from tests.operators.helpers import run

UUID_A = "2c48a152-3d49-43cb-88a1-523d49e3cbcb"
UUID_B = "c8e12917-ac33-44d7-a129-17ac3364d7b7"
CRM = "14518937-270c-4525-bdec-c2ba7cce3860"
PAYPAL = "221c7626-58f6-4eec-8ee2-042b0226f03b"
SCHEMA = "https://ns.adobe.com/tenant/schemas/0123abcd"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
SCHEDULE = {"startTime": 1567411548, "frequency": "hour", "interval": 1}


def dataflow(**changes: Any) -> AEPCreateDataflowOperator:
    args: dict[str, Any] = {
        "task_id": "dataflow",
        "name": "flow",
        "flow_spec_id": CRM,
        "source_connection_ids": UUID_A,
        "target_connection_ids": UUID_B,
        "mapping_id": "b54a8dc38e8d4e31a2dc096e413ae8e5",
        "schedule_params": SCHEDULE,
    }
    return AEPCreateDataflowOperator(**{**args, **changes})


def source(**changes: Any) -> AEPCreateSourceConnectionOperator:
    args: dict[str, Any] = {
        "task_id": "source",
        "name": "source",
        "connection_spec_id": PAYPAL,
        "data_format": "tabular",
        "base_connection_id": UUID_A,
        "table_name": "PayPal.Catalog_Products",
    }
    return AEPCreateSourceConnectionOperator(**{**args, **changes})


def target(**changes: Any) -> AEPCreateTargetConnectionOperator:
    args: dict[str, Any] = {"task_id": "target", "name": "target", "dataset_id": "5e89", "schema_id": SCHEMA}
    return AEPCreateTargetConnectionOperator(**{**args, **changes})


def base(**changes: Any) -> AEPCreateBaseConnectionOperator:
    args: dict[str, Any] = {
        "task_id": "base",
        "name": "account",
        "source": "paypal",
        "source_conn_id": "paypal_default",
    }
    return AEPCreateBaseConnectionOperator(**{**args, **changes})


def mapping(**changes: Any) -> AEPCreateMappingSetOperator:
    legacy = [{"sourceAttribute": "a", "destinationXdmPath": "_id"}]
    return AEPCreateMappingSetOperator(
        **{"task_id": "mapping", "schema_id": SCHEMA, "mappings": legacy, **changes}
    )


def patch(*operations: dict[str, Any]) -> AEPUpdateDataflowOperator:
    return AEPUpdateDataflowOperator(task_id="patch", flow_id=UUID_A, operations=list(operations))


CASES: list[tuple[str, Callable[[], Any], str]] = [
    (
        "unknown frequency",
        lambda: dataflow(schedule_params={**SCHEDULE, "frequency": "monthly"}),
        "scheduleParams.frequency",
    ),
    (
        "interval 10 with minute",
        lambda: dataflow(schedule_params={**SCHEDULE, "frequency": "minute", "interval": 10}),
        "scheduleParams.interval",
    ),
    (
        "interval with once",
        lambda: dataflow(schedule_params={"startTime": 1567411548, "frequency": "once", "interval": 1}),
        "scheduleParams.interval",
    ),
    (
        "backfill with once",
        lambda: dataflow(schedule_params={"startTime": 1567411548, "frequency": "once", "backfill": True}),
        "scheduleParams.backfill",
    ),
    (
        "missing startTime",
        lambda: dataflow(schedule_params={"frequency": "hour", "interval": 1}),
        "scheduleParams.startTime",
    ),
    (
        "startTime in milliseconds",
        lambda: dataflow(schedule_params={**SCHEDULE, "startTime": 1567411548000}),
        "scheduleParams.startTime",
    ),
    ("flow spec id not a UUID", lambda: dataflow(flow_spec_id="CRMToAEP"), "flowSpec.id"),
    ("no source connection", lambda: dataflow(source_connection_ids=[]), "sourceConnectionIds"),
    (
        "source connection id not a UUID",
        lambda: dataflow(source_connection_ids=["abc"]),
        "sourceConnectionIds[0]",
    ),
    ("no target connection", lambda: dataflow(target_connection_ids=[]), "targetConnectionIds"),
    (
        "transformations and mapping_id",
        lambda: dataflow(transformations=[{"name": "Copy", "params": {}}]),
        "transformations",
    ),
    ("empty dataflow name", lambda: dataflow(name=" "), "name"),
    ("unknown source data format", lambda: source(data_format="xml"), "data.format"),
    ("source connection spec not a UUID", lambda: source(connection_spec_id="paypal"), "connectionSpec.id"),
    ("base connection id not a UUID", lambda: source(base_connection_id="24151d58"), "baseConnectionId"),
    ("empty column list", lambda: source(columns=[]), "params.columns"),
    ("column without a name", lambda: source(columns=[{"type": "string"}]), "params.columns[0].name"),
    ("empty dataset id", lambda: target(dataset_id=""), "params.dataSetId"),
    ("target not on the data lake", lambda: target(connection_spec_id=PAYPAL), "connectionSpec.id"),
    (
        "target schema version not XDM",
        lambda: target(schema_version="application/json"),
        "data.schema.version",
    ),
    (
        "dataset schema content type",
        lambda: AEPCreateDatasetOperator(
            task_id="d", name="d", schema_id=SCHEMA, schema_content_type="text/csv"
        ),
        "schemaRef.contentType",
    ),
    (
        "dataset without a name",
        lambda: AEPCreateDatasetOperator(task_id="d", name="", schema_id=SCHEMA),
        "name",
    ),
    (
        "dataset if_exists update",
        lambda: AEPCreateDatasetOperator(task_id="d", name="d", schema_id=SCHEMA, if_exists="update"),
        "if_exists",
    ),
    ("unknown if_exists", lambda: dataflow(if_exists="overwrite"), "if_exists"),
    (
        "schema without a class",
        lambda: AEPCreateSchemaOperator(task_id="s", title="s", class_id=f"{PROFILE}-person-details"),
        "allOf",
    ),
    (
        "field groups as one string",
        lambda: AEPCreateSchemaOperator(task_id="s", title="s", class_id=PROFILE, field_group_ids="x"),
        "field_group_ids",
    ),
    (
        "schema without a title",
        lambda: AEPCreateSchemaOperator(task_id="s", title="", class_id=PROFILE),
        "title",
    ),
    (
        "ad-hoc class without fields",
        lambda: AEPCreateAdhocClassOperator(task_id="c", title="c", fields={}),
        "_adhoc.properties",
    ),
    (
        "ad-hoc field without a type",
        lambda: AEPCreateAdhocClassOperator(task_id="c", title="c", fields={"a": {"format": "x"}}),
        "_adhoc.properties.a",
    ),
    ("empty mapping list", lambda: mapping(mappings=[]), "mappings"),
    (
        "mapping without destination",
        lambda: mapping(mappings=[{"sourceAttribute": "a"}]),
        "mappings[0].destinationXdmPath",
    ),
    ("unknown mapping shape", lambda: mapping(shape="newest"), "shape"),
    ("patch op move", lambda: patch({"op": "move", "path": "/name", "from": "/x"}), "[0].op"),
    ("patch path without slash", lambda: patch({"op": "replace", "path": "name", "value": "x"}), "[0].path"),
    ("patch replace without value", lambda: patch({"op": "replace", "path": "/name"}), "[0].value"),
    ("empty patch", lambda: patch(), "dataflow patch"),
    (
        "account update with nothing",
        lambda: AEPUpdateBaseConnectionOperator(task_id="u", base_connection_id=UUID_A),
        "operations",
    ),
    ("unknown source", lambda: base(source="stripe"), "source"),
    (
        "secret literal in DAG code",
        lambda: base(auth_params={"clientSecret": "literal-secret-value"}),
        "auth_params.clientSecret",
    ),
    (
        "credential from an unknown field",
        lambda: base(
            source=None,
            connection_spec_id=PAYPAL,
            auth_spec_name="x",
            credential_fields={"clientId": "username"},
        ),
        "credential_fields.clientId",
    ),
    (
        "source connection without a password",
        lambda: base(source_conn_id="paypal_without_secret"),
        "clientSecret",
    ),
    (
        "unknown connection type",
        lambda: AEPDeleteConnectionOperator(task_id="x", connection_id=UUID_A, connection_type="flow"),  # type: ignore[arg-type]
        "connection_type",
    ),
    ("delete without an id", lambda: AEPDeleteDataflowOperator(task_id="x", flow_id=""), "flow_id"),
    ("enable without an id", lambda: AEPEnableDataflowOperator(task_id="x", flow_id=""), "flow_id"),
    ("get without an id", lambda: AEPGetDataflowOperator(task_id="x", flow_id=""), "flow_id"),
    ("flow spec without a name", lambda: AEPGetFlowSpecOperator(task_id="x", name=""), "name"),
    (
        "no events",
        lambda: AEPSendStreamingEventsOperator(
            task_id="x", inlet_url="https://dcs.adobedc.net/collection/1", events=[]
        ),
        "events",
    ),
    (
        "event not an object",
        lambda: AEPSendStreamingEventsOperator(
            task_id="x",
            inlet_url="https://dcs.adobedc.net/collection/1",
            events=["x"],  # type: ignore[list-item]
        ),
        "events[0]",
    ),
    (
        "zero poll interval",
        lambda: AEPTriggerFlowRunOperator(task_id="x", flow_id=UUID_A, poll_interval=0),
        "poll_interval",
    ),
    (
        "poll interval as text",
        lambda: AEPTriggerFlowRunOperator(task_id="x", flow_id=UUID_A, poll_interval="30"),  # type: ignore[arg-type]
        "poll_interval",
    ),
    (
        "zero poke interval",
        lambda: AEPFlowRunSensor(task_id="x", flow_run_id=UUID_A, poke_interval=0, deferrable=True),
        "poke_interval",
    ),
    (
        "inlet not http",
        lambda: AEPSendStreamingEventsOperator(task_id="x", inlet_url="ftp://inlet", events={"a": 1}),
        "inlet_url",
    ),
]


@pytest.mark.parametrize(("make", "field"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_fails_before_any_request_naming_the_field(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, make: Callable[[], Any], field: str
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAYPAL_WITHOUT_SECRET", json.dumps({"conn_type": "generic", "login": "id", "host": "h"})
    )
    with pytest.raises(AEPConfigError) as raised:
        run(make())
    assert field in str(raised.value)
    assert "literal-secret-value" not in str(raised.value)
    assert aep.requests() == []


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
