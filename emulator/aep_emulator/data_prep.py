"""Data Prep (``/data/foundation/conversion``): mapping sets, in the legacy and the current shape.

Source: ``data-prep.yaml`` (``createMappingSet``, ``listMappingSets``, ``retrieveMappingSet``) and the
legacy request shape of seeds ``001_…``/``004_…``. Adobe documents no ``DELETE`` of a mapping set (the
spec and the mapping-set endpoint guide list retrieve, create, update and validate), so there is none.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.body_types import MAPPING_SET_FIELDS, check_field_types
from aep_emulator.errors import conversion_bad_request, conversion_error
from aep_emulator.gateway import Call, int_param, json_response, platform_routes
from aep_emulator.state import Resource, Store

PREFIX = "/data/foundation/conversion"
SOURCE_TYPES = ("ATTRIBUTE", "EXPRESSION", "CONSTANT")


def _normalized_mapping(raw: Any, index: int, user: str, now_ms: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise conversion_error(400, f"mappings[{index}] must be an object")
    if "sourceAttribute" in raw or "destinationXdmPath" in raw:
        source, destination, source_type = (
            raw.get("sourceAttribute"),
            raw.get("destinationXdmPath"),
            "ATTRIBUTE",
        )
    else:
        source, destination = raw.get("source"), raw.get("destination")
        source_type = str(raw.get("sourceType", "ATTRIBUTE")).upper()
    if not isinstance(source, str) or not source or not isinstance(destination, str) or not destination:
        raise conversion_error(400, f"mappings[{index}] needs a source and a destination")
    if source_type not in SOURCE_TYPES:
        raise conversion_error(400, f"mappings[{index}].sourceType must be one of {', '.join(SOURCE_TYPES)}")
    return {
        **raw,
        "id": uuid.uuid4().hex,
        "sourceType": source_type,
        "source": source,
        "destination": destination,
        "createdBy": user,
        "modifiedBy": user,
        "createdDate": now_ms,
        "modifiedDate": now_ms,
    }


def create_mapping_set(call: Call) -> Response:
    """``POST /mappingSets`` -> ``200 {id, version: 0, createdDate, ...}`` (200, not 201)."""
    body = call.body
    if not isinstance(body, dict):
        raise conversion_error(400, "The request body must be a JSON object")
    check_field_types(body, MAPPING_SET_FIELDS, conversion_bad_request)
    schema_id = body.get("xdmSchema")
    if schema_id is None:
        schema_ref = (body.get("outputSchema") or {}).get("schemaRef")
        schema_id = schema_ref.get("id") if isinstance(schema_ref, dict) else None
    if not isinstance(schema_id, str) or not schema_id:
        raise conversion_error(400, "xdmSchema or outputSchema.schemaRef.id is required")
    if not any(schema["$id"] == schema_id for schema in call.table("schemas").values()):
        raise conversion_error(400, f"Schema {schema_id} was not found")
    mappings = body.get("mappings")
    if not isinstance(mappings, list) or not mappings:
        raise conversion_error(400, "mappings must be a non-empty array")
    user = f"{call.store.settings.client_id}@AdobeID"
    now_ms = call.store.now_ms()
    mapping_set_id = uuid.uuid4().hex
    stored: Resource = {
        **{key: value for key, value in body.items() if key not in ("id", "version", "mappings")},
        "id": mapping_set_id,
        "version": 0,
        "outputSchema": body.get("outputSchema")
        or {"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [_normalized_mapping(raw, index, user, now_ms) for index, raw in enumerate(mappings)],
        "createdDate": now_ms,
        "modifiedDate": now_ms,
        "createdBy": user,
        "modifiedBy": user,
    }
    call.table("mappingSets")[mapping_set_id] = stored
    summary = {
        key: stored[key]
        for key in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")
    }
    return json_response(summary, 200)


def get_mapping_set(call: Call) -> Response:
    """``GET /mappingSets/{id}``: the whole mapping set."""
    mapping_set = call.table("mappingSets").get(call.param("id"))
    if mapping_set is None:
        raise conversion_error(404, f"Mapping set {call.param('id')} was not found")
    return json_response(mapping_set)


def list_mapping_sets(call: Call) -> Response:
    """``GET /mappingSets?start=&limit=`` -> ``MapperSetPage`` ``{"data": [...], "_page": {count, limit},
    "_links": {}}``: ``start`` is an offset and ``limit`` the page size.

    Both are required: ``data-prep.yaml`` marks them so and Adobe's mapping-set endpoint guide
    (help/data-prep/api/mapping-set.md) says a list request must include ``start`` and ``limit``.
    """
    query = call.request.query_params
    for name in ("start", "limit"):
        if name not in query:
            raise conversion_bad_request(f"Missing required query parameter {name!r}: send start and limit")
    start = int_param(query, "start", 0, 0, None, conversion_bad_request)
    limit = int_param(query, "limit", 0, 0, None, conversion_bad_request)
    page = list(call.table("mappingSets").values())[start : start + limit]
    return json_response({"data": page, "_page": {"count": len(page), "limit": limit}, "_links": {}})


def data_prep_routes(store: Store) -> list[Route]:
    """Data Prep routes, wrapped with the gateway checks; creating a mapping set takes the create latency."""
    route = platform_routes(store, PREFIX, conversion_bad_request)
    return [
        route("/mappingSets", list_mapping_sets, "GET"),
        route("/mappingSets", create_mapping_set, "POST", creates=True),
        route("/mappingSets/{id}", get_mapping_set, "GET"),
    ]
