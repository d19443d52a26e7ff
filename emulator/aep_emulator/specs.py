"""The connection specs and flow specs the tutorials use, as Flow Service serves them.

The CRMToAEP flow spec (schedule, transformation and run JSON Schemas) is copied from the payments
tutorial (seed ``001``); the streaming flow spec is ``GenericStreamingAEP`` (seed ``000``).
"""

from __future__ import annotations

import copy
from typing import Any

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

PAYPAL_SPEC_ID = "221c7626-58f6-4eec-8ee2-042b0226f03b"
SFMC_SPEC_ID = "ea1c2a08-b722-11eb-8529-0242ac130003"
SHOPIFY_STREAMING_SPEC_ID = "e77fd9d2-22a8-11ed-861d-0242ac120002"
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP_FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
STREAMING_FLOW_SPEC_ID = "e77fde5a-22a8-11ed-861d-0242ac120002"

_DELTA_COLUMN = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "dateFormat": {"type": "string"},
        "timezone": {"type": "string"},
    },
    "required": ["name"],
}

SCHEDULE_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_07,
    "type": "object",
    "properties": {
        "startTime": {"description": "epoch time", "type": "integer"},
        "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
        "interval": {"type": "integer"},
        "backfill": {"type": "boolean", "default": True},
    },
    "required": ["startTime", "frequency"],
    "if": {"properties": {"frequency": {"const": "once"}}},
    "then": {"allOf": [{"not": {"required": ["interval"]}}, {"not": {"required": ["backfill"]}}]},
    "else": {
        "required": ["interval"],
        "if": {"properties": {"frequency": {"const": "minute"}}},
        "then": {"properties": {"interval": {"minimum": 15}}},
        "else": {"properties": {"interval": {"minimum": 1}}},
    },
}

_MAPPING_TRANSFORMATION = {
    "name": "Mapping",
    "spec": {
        "$schema": DRAFT_07,
        "type": "object",
        "description": "defines various params required for different mapping from source to target",
        "properties": {"mappingId": {"type": "string"}, "mappingVersion": {"type": "string"}},
    },
}

_RUN_SPEC = {
    "name": "ProviderParams",
    "spec": {
        "$schema": DRAFT_07,
        "type": "object",
        "description": "defines various params required for creating flow run.",
        "properties": {
            "startTime": {
                "type": "integer",
                "description": "An integer that defines the start time of the run. "
                "The value is represented in Unix epoch time.",
            },
            "windowStartTime": {
                "type": "integer",
                "description": "An integer that defines the start time of the window against which data is "
                "to be pulled. The value is represented in Unix epoch time.",
            },
            "windowEndTime": {
                "type": "integer",
                "description": "An integer that defines the end time of the window against which data is "
                "to be pulled. The value is represented in Unix epoch time.",
            },
            "deltaColumn": {
                "type": "object",
                "description": "The delta column is required to partition the data and separate newly "
                "ingested data from historic data.",
                "properties": _DELTA_COLUMN["properties"],
                "required": ["name"],
            },
        },
        "required": ["startTime", "windowStartTime", "windowEndTime", "deltaColumn"],
    },
}

_PERMISSIONS = {
    "view": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["read"]}],
    "manage": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["write"]}],
}

FLOW_SPECS: list[dict[str, Any]] = [
    {
        "id": CRM_TO_AEP_FLOW_SPEC_ID,
        "name": "CRMToAEP",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {
            "isSourceFlow": True,
            "flacValidationSupported": True,
            "frequency": "batch",
            "notification": {"category": "sources", "flowRun": {"enabled": True}},
        },
        "sourceConnectionSpecIds": [PAYPAL_SPEC_ID, SFMC_SPEC_ID],
        "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
        "permissionsInfo": _PERMISSIONS,
        "optionSpec": {
            "name": "OptionSpec",
            "spec": {
                "$schema": DRAFT_07,
                "type": "object",
                "properties": {
                    "errorDiagnosticsEnabled": {
                        "title": "Error diagnostics.",
                        "description": "Flag to enable detailed and sample error diagnostics summary.",
                        "type": "boolean",
                        "default": False,
                    },
                    "partialIngestionPercent": {
                        "title": "Partial ingestion threshold.",
                        "description": "Percentage of errors allowed before the run is marked as failed.",
                        "type": "number",
                        "exclusiveMinimum": 0,
                    },
                },
            },
        },
        "scheduleSpec": {"name": "PeriodicSchedule", "type": "Periodic", "spec": SCHEDULE_SCHEMA},
        "transformationSpecs": [
            {
                "name": "Copy",
                "spec": {
                    "$schema": DRAFT_07,
                    "type": "object",
                    "properties": {"deltaColumn": _DELTA_COLUMN},
                    "required": ["deltaColumn"],
                },
            },
            _MAPPING_TRANSFORMATION,
        ],
        "runSpec": _RUN_SPEC,
    },
    {
        "id": STREAMING_FLOW_SPEC_ID,
        "name": "GenericStreamingAEP",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "version": "1.0",
        "attributes": {
            "isSourceFlow": True,
            "flacValidationSupported": False,
            "frequency": "streaming",
            "notification": {"category": "sources", "flowRun": {"enabled": True}},
        },
        "sourceConnectionSpecIds": [SHOPIFY_STREAMING_SPEC_ID],
        "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
        "permissionsInfo": _PERMISSIONS,
        "transformationSpecs": [_MAPPING_TRANSFORMATION],
    },
]


def _auth_spec(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "type": name,
        "spec": {
            "$schema": DRAFT_07,
            "type": "object",
            "properties": {key: {"type": "string", **extra} for key, extra in properties.items()},
            "required": required,
        },
    }


_SECRET = {"format": "password"}

CONNECTION_SPECS: list[dict[str, Any]] = [
    {
        "id": PAYPAL_SPEC_ID,
        "name": "PayPal",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"category": "Payments", "connectorName": "PayPal", "isSource": True},
        "authSpec": [
            _auth_spec(
                "Client-Id-Secret Based Authentication",
                {"host": {}, "clientId": {}, "clientSecret": _SECRET},
                ["host", "clientId", "clientSecret"],
            )
        ],
        "sourceSpec": {"name": "PayPal", "type": "Table", "attributes": {"uiAttributes": {"isSource": True}}},
        "permissionsInfo": _PERMISSIONS,
    },
    {
        "id": SFMC_SPEC_ID,
        "name": "Salesforce Marketing Cloud",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"category": "Marketing Automation", "connectorName": "Salesforce Marketing Cloud"},
        "authSpec": [
            _auth_spec(
                "Client-Id-Secret Based Authentication",
                {"host": {}, "clientId": {}, "clientSecret": _SECRET},
                ["host", "clientId", "clientSecret"],
            ),
            _auth_spec(
                "OAuth2 Client Credential",
                {"subdomain": {}, "clientId": {}, "clientSecret": _SECRET},
                ["subdomain", "clientId", "clientSecret"],
            ),
        ],
        "sourceSpec": {"name": "Salesforce Marketing Cloud", "type": "Table"},
        "permissionsInfo": _PERMISSIONS,
    },
    {
        "id": SHOPIFY_STREAMING_SPEC_ID,
        "name": "Shopify Streaming",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "version": "1.0",
        "attributes": {"category": "eCommerce", "connectorName": "Shopify Streaming", "isSource": True},
        "authSpec": [],
        "sourceSpec": {"name": "Shopify Streaming", "type": "Streaming"},
        "permissionsInfo": _PERMISSIONS,
    },
    {
        "id": DATA_LAKE_SPEC_ID,
        "name": "Data Lake",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "version": "1.0",
        "attributes": {"category": "Data Lake", "connectorName": "Data Lake", "isSource": False},
        "authSpec": [],
        "permissionsInfo": _PERMISSIONS,
    },
]

_FLOW_SPECS_BY_ID = {spec["id"]: spec for spec in FLOW_SPECS}
_CONNECTION_SPECS_BY_ID = {spec["id"]: spec for spec in CONNECTION_SPECS}


def flow_spec(spec_id: str) -> dict[str, Any] | None:
    """A copy of the flow spec with this id, or ``None``."""
    spec = _FLOW_SPECS_BY_ID.get(spec_id)
    return copy.deepcopy(spec) if spec is not None else None


def connection_spec(spec_id: str) -> dict[str, Any] | None:
    """A copy of the connection spec with this id, or ``None``."""
    spec = _CONNECTION_SPECS_BY_ID.get(spec_id)
    return copy.deepcopy(spec) if spec is not None else None


def is_streaming(flow_spec_id: str) -> bool:
    """Whether flows of this spec are fed through an inlet rather than scheduled batch runs."""
    spec = _FLOW_SPECS_BY_ID.get(flow_spec_id)
    return spec is not None and spec["attributes"]["frequency"] == "streaming"
