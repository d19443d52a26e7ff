"""Top-level field types of the request bodies the emulator accepts, as Adobe's specs declare them.

A field of the wrong JSON type (a number where the spec says string, a string where it says object...)
is the service's own 400, never a stored oddity or a 500. ``null`` stands for "not sent": Adobe's
tutorials send ``"id": null`` in mapping sets (seed ``001_…``). Nested values are checked by each
service where it reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aep_emulator.errors import InvalidInput

FieldTypes = Mapping[str, str]

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def json_type_of(value: Any) -> str:
    """The JSON type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name in ("string", "object", "array", "integer", "number"):
        if isinstance(value, _PYTHON_TYPES[name]):
            return name
    return type(value).__name__


def is_json_type(value: Any, json_type: str) -> bool:
    """Whether ``value`` is of ``json_type`` (a boolean is not a number here, as in JSON Schema)."""
    if isinstance(value, bool) and json_type in ("integer", "number"):
        return False
    return isinstance(value, _PYTHON_TYPES[json_type])


def check_field_types(body: Mapping[str, Any], types: FieldTypes, invalid: InvalidInput) -> None:
    """Raise ``invalid(reason)`` for the first field of ``body`` whose type is not the declared one."""
    for name, json_type in types.items():
        value = body.get(name)
        if value is not None and not is_json_type(value, json_type):
            raise invalid(f"{name} must be a JSON {json_type}, not {json_type_of(value)}")


def check_string_lists(value: Mapping[str, Any], what: str, invalid: InvalidInput) -> None:
    """Catalog ``tags``: every value is an array of strings (``dataSetRequest.tags`` in ``catalog.yaml``)."""
    for key, items in value.items():
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise invalid(f"{what}.{key} must be an array of strings")


# Flow Service request DTOs (flow-service.yaml, the request bodies of createConnection,
# createSourceConnection, createTargetConnection, postFlow and createFlowRun).
CONNECTION_FIELDS: FieldTypes = {
    "name": "string",
    "description": "string",
    "auth": "object",
    "connectionSpec": "object",
}
SOURCE_CONNECTION_FIELDS: FieldTypes = {
    **CONNECTION_FIELDS,
    "baseConnectionId": "string",
    "data": "object",
    "params": "object",
}
TARGET_CONNECTION_FIELDS: FieldTypes = {
    **CONNECTION_FIELDS,
    "data": "object",
    "params": "object",
}
FLOW_FIELDS: FieldTypes = {
    "name": "string",
    "description": "string",
    "flowSpec": "object",
    "sourceConnectionIds": "array",
    "targetConnectionIds": "array",
    "transformations": "array",
    "scheduleParams": "object",
    "options": "object",
}
RUN_FIELDS: FieldTypes = {"flowId": "string", "params": "object"}

# Catalog ``dataSetRequest`` (catalog.yaml, createDataset).
DATASET_FIELDS: FieldTypes = {
    "name": "string",
    "description": "string",
    "tags": "object",
    "enableErrorDiagnostics": "boolean",
    "observableSchema": "object",
    "basePath": "string",
    "fileDescription": "object",
    "schema": "string",
    "schemaRef": "object",
    "dataSourceId": "integer",
}

# Schema Registry ``createSchema`` / ``createClass`` bodies (schema-registry.yaml), plus the meta
# fields the tutorials send (seed ``004_…``).
XDM_RESOURCE_FIELDS: FieldTypes = {
    "type": "string",
    "title": "string",
    "description": "string",
    "allOf": "array",
    "meta:class": "string",
    "meta:containerId": "string",
    "meta:resourceType": "string",
    "meta:xdmType": "string",
}

# Data Prep ``MappingSet`` (data-prep.yaml, createMappingSet), plus the legacy fields of the seeds.
MAPPING_SET_FIELDS: FieldTypes = {
    "allowNullValues": "boolean",
    "createdBy": "string",
    "createdDate": "string",
    "id": "string",
    "inputSchema": "object",
    "mappings": "array",
    "modifiedBy": "string",
    "modifiedDate": "string",
    "name": "string",
    "outputSchema": "object",
    "supportVersion": "string",
    "version": "integer",
    "tags": "array",
    "xdmSchema": "string",
    "xdmVersion": "string",
}
