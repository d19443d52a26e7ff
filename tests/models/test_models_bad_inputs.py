"""A bad argument fails before any HTTP call, naming the field path and the rule it broke."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models.catalog import Dataset
from airflow_provider_aep.models.connections import BaseConnection, SourceConnection, TargetConnection
from airflow_provider_aep.models.flows import Dataflow, FlowRunRequest
from airflow_provider_aep.models.mappings import MappingSet
from airflow_provider_aep.models.patch import JsonPatch
from airflow_provider_aep.models.schemas import AdhocClass, TenantSchema
from airflow_provider_aep.models.validation import validate_request
from tests.models.seed_payloads import read_payload_copies

PAYLOADS = read_payload_copies()
FLOW_RUN = {
    "flowId": "3abea21c-7e36-4be1-bea2-1c7e36abe1c2",
    "params": {"startTime": 1593032400, "windowStartTime": 1593028800, "windowEndTime": 1593032400},
}
PATCH = [{"op": "replace", "path": "/name", "value": "New name"}]
ADHOC_CLASS = AdhocClass.for_fields("Ad-hoc", {"Product_Id": "string"}).to_payload()
CURRENT_MAPPING_SET = {
    "outputSchema": {
        "schemaRef": {
            "id": "https://ns.adobe.com/t/schemas/1",
            "contentType": "application/vnd.adobe.xed+json",
        }
    },
    "mappings": [{"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"}],
}


@dataclass(frozen=True)
class BadInput:
    """A valid body, one change that breaks it, and the line the error must contain."""

    model: type[BaseModel]
    what: str
    base: Any
    change: Callable[[Any], object]
    line: str


def _schedule(**values: object) -> Callable[[Any], object]:
    return lambda body: body.__setitem__("scheduleParams", dict(values))


def _set(path: str, value: object) -> Callable[[Any], object]:
    def change(body: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            body = body[int(key)] if key.isdigit() else body[key]
        body[int(last) if last.isdigit() else last] = value

    return change


def _drop(path: str) -> Callable[[Any], object]:
    def change(body: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            body = body[int(key)] if key.isdigit() else body[key]
        del body[last]

    return change


FLOW, SOURCE, TARGET = (
    PAYLOADS["001_dataflow"],
    PAYLOADS["001_source_connection"],
    PAYLOADS["001_target_connection"],
)
AZURE, AWS = PAYLOADS["003_base_connection"], PAYLOADS["003_base_connection_2"]
LEGACY_MAPPING_SET, SCHEMA, DATASET = (
    PAYLOADS["000_mapping_set"],
    PAYLOADS["004_tenant_schema"],
    PAYLOADS["004_dataset"],
)
FREQUENCIES = "'once', 'minute', 'hour', 'day' or 'week'"
INTEGER = "must be an integer (a number or a string of digits)"
UUID = "must be a UUID (8-4-4-4-12 hexadecimal digits)"
XED = "must be an XDM media type such as 'application/vnd.adobe.xed-full+json;version=1'"

BAD_INPUTS: dict[str, BadInput] = {
    # dataflow schedule: the flow spec's JSON Schema
    "unknown frequency": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="monthly", interval=1),
        f"Invalid dataflow: scheduleParams.frequency: must be one of {FREQUENCIES}",
    ),
    "interval 10 with minute": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime="1567411548", frequency="minute", interval="10"),
        "Invalid dataflow: scheduleParams.interval: must be >= 15 when frequency is 'minute'",
    ),
    "interval 0 with hour": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="hour", interval=0),
        "Invalid dataflow: scheduleParams.interval: must be >= 1 when frequency is 'hour'",
    ),
    "interval with once": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="once", interval=15),
        "Invalid dataflow: scheduleParams.interval: must not be set when frequency is 'once'",
    ),
    "backfill with once": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="once", backfill=True),
        "Invalid dataflow: scheduleParams.backfill: must not be set when frequency is 'once'",
    ),
    "no interval with day": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="day"),
        "Invalid dataflow: scheduleParams.interval: is required when frequency is 'day'",
    ),
    "missing startTime": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(frequency="minute", interval=15),
        "Invalid dataflow: scheduleParams.startTime: is required",
    ),
    "startTime in milliseconds": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548000, frequency="minute", interval=15),
        "Invalid dataflow: scheduleParams.startTime: must be epoch seconds (this looks like milliseconds)",
    ),
    "interval not a number": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="minute", interval="15m"),
        f"Invalid dataflow: scheduleParams.interval: {INTEGER}",
    ),
    "backfill as a string": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _schedule(startTime=1567411548, frequency="day", interval=1, backfill="true"),
        "Invalid dataflow: scheduleParams.backfill: must be true or false",
    ),
    # dataflow body
    "state on create": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("state", "enabled"),
        "Invalid dataflow: state: must not be sent on create (AEP answers 1410-400); enable or disable later",
    ),
    "non-UUID flow spec id": BadInput(
        Dataflow, "dataflow", FLOW, _set("flowSpec.id", "CRMToAEP"), f"Invalid dataflow: flowSpec.id: {UUID}"
    ),
    "empty sourceConnectionIds": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("sourceConnectionIds", []),
        "Invalid dataflow: sourceConnectionIds: must contain at least 1 item",
    ),
    "empty targetConnectionIds": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("targetConnectionIds", []),
        "Invalid dataflow: targetConnectionIds: must contain at least 1 item",
    ),
    "non-UUID source connection id": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("sourceConnectionIds.0", "my-source"),
        f"Invalid dataflow: sourceConnectionIds[0]: {UUID}",
    ),
    "Mapping without mappingId": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _drop("transformations.1.params.mappingId"),
        "Invalid dataflow: transformations[1].params.mappingId: is required",
    ),
    "Copy without deltaColumn": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("transformations.0.params", {}),
        "Invalid dataflow: transformations[0].params.deltaColumn: is required",
    ),
    "mappingVersion not a number": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("transformations.1.params.mappingVersion", "v1"),
        f"Invalid dataflow: transformations[1].params.mappingVersion: {INTEGER}",
    ),
    "misspelt dataflow field": BadInput(
        Dataflow,
        "dataflow",
        FLOW,
        _set("schedule", {}),
        "Invalid dataflow: schedule: is not a field AEP accepts here",
    ),
    "not an object": BadInput(
        Dataflow, "dataflow", FLOW, lambda body: body.clear(), "Invalid dataflow: name: is required"
    ),
    # source and target connections
    "unknown data format": BadInput(
        SourceConnection,
        "source connection",
        SOURCE,
        _set("data.format", "csv"),
        "Invalid source connection: data.format: must be one of 'delimited', 'json', 'parquet' or 'tabular'",
    ),
    "non-UUID connection spec id": BadInput(
        SourceConnection,
        "source connection",
        SOURCE,
        _set("connectionSpec.id", "paypal"),
        f"Invalid source connection: connectionSpec.id: {UUID}",
    ),
    "non-UUID base connection id": BadInput(
        SourceConnection,
        "source connection",
        SOURCE,
        _set("baseConnectionId", "24151d58"),
        f"Invalid source connection: baseConnectionId: {UUID}",
    ),
    "source connection without data": BadInput(
        SourceConnection,
        "source connection",
        SOURCE,
        _drop("data"),
        "Invalid source connection: data: is required",
    ),
    "missing dataset id": BadInput(
        TargetConnection,
        "target connection",
        TARGET,
        _set("params", {}),
        "Invalid target connection: params.dataSetId: is required",
    ),
    "target schema version not XDM": BadInput(
        TargetConnection,
        "target connection",
        TARGET,
        _set("data.schema.version", "application/json"),
        f"Invalid target connection: data.schema.version: {XED}",
    ),
    # base connections
    "PayPal-like SFMC without clientSecret": BadInput(
        BaseConnection,
        "base connection",
        AZURE,
        _drop("auth.params.clientSecret"),
        "Invalid base connection: auth.params.clientSecret: is required",
    ),
    "SFMC with an unknown auth spec": BadInput(
        BaseConnection,
        "base connection",
        AZURE,
        _set("auth.specName", "Basic Authentication"),
        "Invalid base connection: auth.specName: must be 'Client-Id-Secret Based Authentication' or "
        "'OAuth2 Client Credential' for Salesforce Marketing Cloud",
    ),
    "SFMC on AWS with host instead of subdomain": BadInput(
        BaseConnection,
        "base connection",
        AWS,
        _set("auth.params", {"host": "h", "clientId": "c", "clientSecret": "s"}),
        "Invalid base connection: auth.params.subdomain: is required",
    ),
    "empty connection name": BadInput(
        BaseConnection,
        "base connection",
        AZURE,
        _set("name", "  "),
        "Invalid base connection: name: must not be empty",
    ),
    # mapping sets
    "empty mapping list": BadInput(
        MappingSet,
        "mapping set",
        LEGACY_MAPPING_SET,
        _set("mappings", []),
        "Invalid mapping set: mappings: must contain at least one mapping",
    ),
    "mapping set without schema": BadInput(
        MappingSet,
        "mapping set",
        LEGACY_MAPPING_SET,
        _drop("xdmSchema"),
        "Invalid mapping set: must have xdmSchema (legacy shape) or outputSchema (current shape)",
    ),
    "legacy mapping without destination": BadInput(
        MappingSet,
        "mapping set",
        LEGACY_MAPPING_SET,
        _drop("mappings.1.destinationXdmPath"),
        "Invalid mapping set: mappings[1].destinationXdmPath: is required",
    ),
    "current mapping with unknown sourceType": BadInput(
        MappingSet,
        "mapping set",
        CURRENT_MAPPING_SET,
        _set("mappings.0.sourceType", "COLUMN"),
        "Invalid mapping set: mappings[0].sourceType: must be one of 'ATTRIBUTE', 'EXPRESSION', 'STATIC', "
        "'text/x.schema-path' or 'text/x.aep-xl'",
    ),
    # JSON Patch
    "patch op move": BadInput(
        JsonPatch,
        "patch",
        PATCH,
        _set("0.op", "move"),
        "Invalid patch: [0].op: must be add, replace or remove (any case); AEP refuses others with 1434-400",
    ),
    "patch path without slash": BadInput(
        JsonPatch,
        "patch",
        PATCH,
        _set("0.path", "name"),
        "Invalid patch: [0].path: must be a JSON Pointer starting with '/', e.g. '/name'",
    ),
    "patch replace without value": BadInput(
        JsonPatch,
        "patch",
        PATCH,
        _drop("0.value"),
        "Invalid patch: [0].value: is required when op is 'replace'",
    ),
    "empty patch": BadInput(
        JsonPatch, "patch", PATCH, lambda body: body.clear(), "Invalid patch: must contain at least 1 item"
    ),
    # on-demand runs
    "window end before start": BadInput(
        FlowRunRequest,
        "flow run",
        FLOW_RUN,
        _set("params.windowEndTime", 1593028000),
        "Invalid flow run: params.windowEndTime: must be after windowStartTime",
    ),
    "run without window start": BadInput(
        FlowRunRequest,
        "flow run",
        FLOW_RUN,
        _drop("params.windowStartTime"),
        "Invalid flow run: params.windowStartTime: is required",
    ),
    "run of a non-UUID flow": BadInput(
        FlowRunRequest, "flow run", FLOW_RUN, _set("flowId", "flow-1"), f"Invalid flow run: flowId: {UUID}"
    ),
    # schemas, classes, datasets
    "schema without class ref": BadInput(
        TenantSchema,
        "schema",
        SCHEMA,
        _set("allOf", [{"$ref": "https://ns.adobe.com/xdm/context/profile-person-details"}]),
        "Invalid schema: allOf: must reference a class (the profile class, a tenant class...), "
        "not only field groups",
    ),
    "schema of type array": BadInput(
        TenantSchema, "schema", SCHEMA, _set("type", "array"), "Invalid schema: type: must be 'object'"
    ),
    "meta:class not among the refs": BadInput(
        TenantSchema,
        "schema",
        SCHEMA,
        _set("meta:class", "https://ns.adobe.com/xdm/context/experienceevent"),
        "Invalid schema: meta:class: must be one of the allOf references",
    ),
    "ad-hoc class without the ad-hoc behaviour": BadInput(
        AdhocClass,
        "ad-hoc class",
        ADHOC_CLASS,
        _set("allOf.0.$ref", "https://ns.adobe.com/xdm/data/record"),
        "Invalid ad-hoc class: allOf: must include the ad-hoc behaviour reference https://ns.adobe.com/xdm/data/adhoc",
    ),
    "ad-hoc class without fields": BadInput(
        AdhocClass,
        "ad-hoc class",
        ADHOC_CLASS,
        _set("allOf.1.properties._adhoc.properties", {}),
        "Invalid ad-hoc class: allOf[1].properties._adhoc.properties: "
        "must describe at least one source field",
    ),
    "dataset content type not XDM": BadInput(
        Dataset,
        "dataset",
        DATASET,
        _set("schemaRef.contentType", "application/json"),
        f"Invalid dataset: schemaRef.contentType: {XED}",
    ),
    "dataset tag not a list": BadInput(
        Dataset,
        "dataset",
        DATASET,
        _set("tags", {"unifiedProfile": "enabled: true"}),
        "Invalid dataset: tags.unifiedProfile: must be a list",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_the_field_and_the_rule(case: str) -> None:
    bad = BAD_INPUTS[case]
    body = copy.deepcopy(bad.base)
    validate_request(bad.model, copy.deepcopy(body), bad.what)  # the base itself is valid
    bad.change(body)
    with pytest.raises(AEPConfigError) as error:
        validate_request(bad.model, body, bad.what)
    lines = str(error.value).splitlines()
    assert bad.line in lines
    assert all(line.startswith(f"Invalid {bad.what}: ") for line in lines)
    assert error.value.__cause__ is None
    assert error.value.__context__ is None


def test_there_are_at_least_thirty_bad_inputs() -> None:
    assert len(BAD_INPUTS) >= 30


def test_every_problem_gets_its_own_line() -> None:
    body = copy.deepcopy(FLOW)
    body["scheduleParams"] = {"startTime": 1567411548, "frequency": "once", "interval": 15, "backfill": False}
    body["flowSpec"]["id"] = "nope"
    with pytest.raises(AEPConfigError) as error:
        validate_request(Dataflow, body, "dataflow")
    assert str(error.value).splitlines() == [
        f"Invalid dataflow: flowSpec.id: {UUID}",
        "Invalid dataflow: scheduleParams.interval: must not be set when frequency is 'once'",
        "Invalid dataflow: scheduleParams.backfill: must not be set when frequency is 'once'",
    ]


def test_a_non_object_body_is_refused() -> None:
    with pytest.raises(AEPConfigError, match=r"^Invalid dataflow: must be a JSON object$"):
        validate_request(Dataflow, ["not", "an", "object"], "dataflow")
