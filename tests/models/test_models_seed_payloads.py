"""Every example request of the seed tutorials validates and round-trips through ``to_payload``."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models._base import AEPModel
from airflow_provider_aep.models.catalog import Dataset
from airflow_provider_aep.models.connections import (
    BaseConnection,
    GenericAuth,
    PayPalAuth,
    SalesforceMarketingCloudAwsAuth,
    SalesforceMarketingCloudAzureAuth,
    SourceConnection,
    TargetConnection,
)
from airflow_provider_aep.models.flows import Dataflow, FlowRunRequest
from airflow_provider_aep.models.mappings import MappingSet
from airflow_provider_aep.models.patch import JsonPatch
from airflow_provider_aep.models.schemas import XDM_ADHOC_BEHAVIOUR, AdhocClass, TenantSchema
from airflow_provider_aep.models.validation import validate_request
from tests.models.seed_payloads import read_payload_copies, read_seed_requests

PAYLOADS = read_payload_copies()
MODEL_BY_KIND: dict[str, type[AEPModel]] = {
    "base_connection": BaseConnection,
    "source_connection": SourceConnection,
    "target_connection": TargetConnection,
    "mapping_set": MappingSet,
    "dataflow": Dataflow,
    "tenant_schema": TenantSchema,
    "dataset": Dataset,
}
PAYPAL_BASE_CONNECTION = {  # AEP_API_NOTES.md section 3, from Adobe's PayPal tutorial
    "name": "PayPal base connection",
    "description": "PayPal base connection",
    "auth": {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {"host": "api-m.paypal.com", "clientId": "paypal-client", "clientSecret": "paypal-secret"},
    },
    "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
}


def _kind(name: str) -> str:
    return name[4:].removesuffix("_2")


def _without_nulls(value: Any) -> Any:
    """``to_payload`` never sends ``null`` fields (the legacy mapping examples carry ``"id": null``)."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_seed_payload_validates_and_round_trips(name: str) -> None:
    body = PAYLOADS[name]
    model = validate_request(MODEL_BY_KIND[_kind(name)], copy.deepcopy(body), _kind(name))
    assert model.to_payload() == _without_nulls(body)


def test_every_seed_request_has_a_payload_copy() -> None:
    assert len(PAYLOADS) == 16
    assert {_kind(name) for name in PAYLOADS} == set(MODEL_BY_KIND)


def test_payload_copies_match_the_seed_tutorials() -> None:
    from_seeds = {request.name: request.body for request in read_seed_requests()}
    assert from_seeds == PAYLOADS


def test_the_payments_spec_id_slip_of_the_target_connections_is_refused() -> None:
    slipped = copy.deepcopy(PAYLOADS["001_target_connection"])
    slipped["connectionSpec"]["id"] = "221c7626-58f6-4eec-8ee2-042b0226f03b"
    with pytest.raises(AEPConfigError) as error:
        validate_request(TargetConnection, slipped, "target connection")
    assert str(error.value) == (
        "Invalid target connection: connectionSpec.id: "
        "must be the data lake connection spec c604ff05-7f1a-43c0-8e18-33bf874cb11c"
    )


def test_a_target_connection_defaults_to_the_data_lake() -> None:
    body = {k: v for k, v in PAYLOADS["000_target_connection"].items() if k != "connectionSpec"}
    payload = validate_request(TargetConnection, body, "target connection").to_payload()
    assert payload["connectionSpec"] == {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}


@pytest.mark.parametrize(
    ("name", "auth_model"),
    [
        ("003_base_connection", SalesforceMarketingCloudAzureAuth),
        ("003_base_connection_2", SalesforceMarketingCloudAwsAuth),
    ],
)
def test_salesforce_marketing_cloud_auth_is_typed_per_cloud(name: str, auth_model: type[BaseModel]) -> None:
    connection = validate_request(BaseConnection, PAYLOADS[name], "base connection")
    assert isinstance(connection.auth, auth_model)


def test_paypal_base_connection_of_the_notes_is_typed() -> None:
    connection = validate_request(BaseConnection, PAYPAL_BASE_CONNECTION, "base connection")
    assert isinstance(connection.auth, PayPalAuth)
    assert connection.to_payload() == PAYPAL_BASE_CONNECTION


def test_other_sources_get_generic_auth_passed_through() -> None:
    body = {
        "name": "Blob",
        "auth": {
            "specName": "ConnectionString",
            "params": {"connectionString": "DefaultEndpoints=x", "n": 1},
        },
        "connectionSpec": {"id": "d771e9c1-4f26-40dc-8617-ce58c4b53702", "version": "1.0"},
    }
    connection = validate_request(BaseConnection, body, "base connection")
    assert isinstance(connection.auth, GenericAuth)
    assert connection.to_payload() == body


def test_numbers_sent_as_strings_keep_their_type() -> None:
    flow_001 = validate_request(Dataflow, PAYLOADS["001_dataflow"], "dataflow").to_payload()
    flow_004 = validate_request(Dataflow, PAYLOADS["004_dataflow"], "dataflow").to_payload()
    assert flow_001["scheduleParams"] == {"startTime": "1567411548", "frequency": "minute", "interval": "30"}
    assert flow_001["transformations"][1]["params"]["mappingVersion"] == 0
    assert flow_004["transformations"][1]["params"]["mappingVersion"] == "0"


def test_the_current_mapping_set_shape_of_the_spec_validates() -> None:
    body = {
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id", "name": "id"},
            {"sourceType": "ATTRIBUTE", "source": "firstName", "destination": "person.name.firstName"},
        ],
        "outputSchema": {
            "schemaRef": {
                "id": "https://ns.adobe.com/{TENANT_ID}/schemas/89abc189258b1cb1a816d8f2b2341a6d98000ed8f4008305",
                "contentType": "application/vnd.adobe.xed-full+json;version=1",
            }
        },
    }
    assert validate_request(MappingSet, body, "mapping set").to_payload() == body


def test_an_on_demand_run_and_a_schedule_once_validate() -> None:
    run = {
        "flowId": "3abea21c-7e36-4be1-bea2-1c7e36abe1c2",
        "params": {"startTime": 1593032400, "windowStartTime": 1593028800, "windowEndTime": 1593032400},
    }
    assert validate_request(FlowRunRequest, run, "flow run").to_payload() == run
    flow = copy.deepcopy(PAYLOADS["001_dataflow"])
    flow["scheduleParams"] = {"startTime": 1567411548, "frequency": "once"}
    assert (
        validate_request(Dataflow, flow, "dataflow").to_payload()["scheduleParams"] == flow["scheduleParams"]
    )


@pytest.mark.parametrize("interval", [1, "1", 30, "30"])
def test_a_schedule_interval_is_sent_as_the_string_flow_service_declares(interval: int | str) -> None:
    flow = copy.deepcopy(PAYLOADS["001_dataflow"])
    flow["scheduleParams"] = {"startTime": 1567411548, "frequency": "hour", "interval": interval}
    sent = validate_request(Dataflow, flow, "dataflow").to_payload()["scheduleParams"]
    assert sent == {"startTime": 1567411548, "frequency": "hour", "interval": str(interval)}


def test_json_patch_accepts_any_case_and_keeps_it() -> None:
    patch = [
        {"op": "replace", "path": "/name", "value": "New name"},
        {"op": "Add", "path": "/description", "value": None},
        {"op": "REMOVE", "path": "/scheduleParams/backfill"},
    ]
    assert validate_request(JsonPatch, patch, "patch").to_payload() == patch


def test_adhoc_class_for_source_fields() -> None:
    adhoc = AdhocClass.for_fields("PayPal products ad-hoc class", {"Product_Id": "string", "Price": "number"})
    assert adhoc.to_payload() == {
        "type": "object",
        "title": "PayPal products ad-hoc class",
        "allOf": [
            {"$ref": XDM_ADHOC_BEHAVIOUR},
            {
                "properties": {
                    "_adhoc": {
                        "type": "object",
                        "properties": {"Product_Id": {"type": "string"}, "Price": {"type": "number"}},
                    }
                }
            },
        ],
    }
    assert validate_request(AdhocClass, adhoc.to_payload(), "ad-hoc class").to_payload() == adhoc.to_payload()


def test_importing_the_models_package_imports_no_model() -> None:
    code = (
        "import sys, airflow_provider_aep.models; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith('airflow_provider_aep.models.') or m == 'pydantic'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
