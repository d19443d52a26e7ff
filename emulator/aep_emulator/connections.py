"""Flow Service base connections, source connections and target connections."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from aep_emulator import specs
from aep_emulator.body_types import (
    CONNECTION_FIELDS,
    SOURCE_CONNECTION_FIELDS,
    TARGET_CONNECTION_FIELDS,
    FieldTypes,
    check_field_types,
)
from aep_emulator.errors import flow_error
from aep_emulator.gateway import Call, json_response, require_object
from aep_emulator.resources import (
    apply_json_patch,
    bad_request,
    check_if_match,
    get_or_404,
    mask_secrets,
    password_params,
)
from aep_emulator.runs import new_etag
from aep_emulator.state import Resource

SOURCE_FORMATS = ("delimited", "json", "parquet", "tabular")
FIELDS: dict[str, FieldTypes] = {
    "connections": CONNECTION_FIELDS,
    "sourceConnections": SOURCE_CONNECTION_FIELDS,
    "targetConnections": TARGET_CONNECTION_FIELDS,
}


def _spec_ref(body: dict[str, Any], kind: str) -> dict[str, Any]:
    ref = body.get("connectionSpec")
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise bad_request("connectionSpec.id is required", kind)
    if specs.connection_spec(ref["id"]) is None:
        raise bad_request(f"Connection spec {ref['id']} was not found", kind)
    return {"id": ref["id"], "version": str(ref.get("version", "1.0"))}


def _check_auth(body: dict[str, Any], spec_id: str) -> dict[str, Any] | None:
    spec = specs.connection_spec(spec_id) or {}
    auth = body.get("auth")
    auth_specs = spec.get("authSpec") or []
    if auth is None:
        if auth_specs:
            raise bad_request(f"auth is required for connection spec {spec['name']}", "connections")
        return None
    if not isinstance(auth, dict) or not isinstance(auth.get("specName"), str):
        raise bad_request("auth.specName is required", "connections")
    matching = [candidate for candidate in auth_specs if candidate["name"] == auth["specName"]]
    if auth_specs and not matching:
        names = ", ".join(candidate["name"] for candidate in auth_specs)
        raise bad_request(f"auth.specName {auth['specName']!r} is not one of: {names}", "connections")
    params = auth.get("params") or {}
    if not isinstance(params, dict):
        raise bad_request("auth.params must be an object", "connections")
    if matching:
        missing = [name for name in matching[0]["spec"]["required"] if not params.get(name)]
        if missing:
            raise bad_request(f"auth.params is missing {', '.join(missing)}", "connections")
    # The secret is never kept: the emulator needs no source credentials and must not leak them.
    secret_names = password_params(auth_specs, auth["specName"])
    return {"specName": auth["specName"], "params": mask_secrets(params, secret_names)}


def _check_types(resource: dict[str, Any], kind: str) -> None:
    check_field_types(resource, FIELDS[kind], lambda message: bad_request(message, kind))


def _common(call: Call, body: dict[str, Any], kind: str) -> Resource:
    _check_types(body, kind)
    if "state" in body:
        raise flow_error("1410-400", "Bad request", "state cannot be set on create", kind)
    etag = new_etag()
    resource: Resource = {
        "id": "",
        **call.audit(),
        "name": body.get("name", ""),
        "etag": etag,
        "version": etag,
    }
    if "description" in body:
        resource["description"] = body["description"]
    return resource


def create_connection(call: Call) -> Response:
    """``POST /connections``: a base connection (account) for a source."""
    body = require_object(call.body, "connections")
    resource = _common(call, body, "connections")
    spec_ref = _spec_ref(body, "connections")
    resource.update({"connectionSpec": spec_ref, "state": "enabled"})
    auth = _check_auth(body, spec_ref["id"])
    if auth is not None:
        resource["auth"] = auth
    return _store(call, "connections", resource)


def create_source_connection(call: Call) -> Response:
    """``POST /sourceConnections``: what to read from the source (table, format, base connection)."""
    kind = "sourceConnections"
    body = require_object(call.body, kind)
    resource = _common(call, body, kind)
    if not body.get("name"):
        raise bad_request("name is required", kind)
    spec_ref = _spec_ref(body, kind)
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_request("data is required", kind)
    if "format" in data and data["format"] not in SOURCE_FORMATS:
        raise bad_request(f"data.format must be one of {', '.join(SOURCE_FORMATS)}", kind)
    resource.update(
        {"connectionSpec": spec_ref, "state": "enabled", "data": data, "params": body.get("params", {})}
    )
    base_id = body.get("baseConnectionId")
    if base_id is not None:
        base = call.table("connections").get(str(base_id))
        if base is None:
            raise bad_request(f"Base connection {base_id} was not found", kind)
        if base["connectionSpec"]["id"] != spec_ref["id"]:
            raise bad_request("connectionSpec.id differs from the base connection's connection spec", kind)
        resource["baseConnectionId"] = base_id
        resource["inheritedAttributes"] = {
            "baseConnection": {"id": base_id, "connectionSpec": base["connectionSpec"]}
        }
    for key in ("providerId",):
        if key in body:
            resource[key] = body[key]
    return _store(call, kind, resource)


def create_target_connection(call: Call) -> Response:
    """``POST /targetConnections``: where the data lands (a dataset of a schema, in the data lake)."""
    kind = "targetConnections"
    body = require_object(call.body, kind)
    resource = _common(call, body, kind)
    spec_ref = _spec_ref(body, kind)
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_request("data is required", kind)
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise bad_request("params must be an object", kind)
    dataset_id = params.get("dataSetId")
    if spec_ref["id"] == specs.DATA_LAKE_SPEC_ID and not dataset_id:
        raise bad_request("params.dataSetId is required for the data lake", kind)
    if dataset_id is not None and not isinstance(dataset_id, str):
        raise bad_request("params.dataSetId must be a string", kind)
    if dataset_id is not None and dataset_id not in call.table("dataSets"):
        raise bad_request(f"Dataset {dataset_id} was not found", kind)
    schema_ref = data.get("schema")
    known_schemas = {schema["$id"] for schema in call.table("schemas").values()}
    schema_id = schema_ref.get("id") if isinstance(schema_ref, dict) else None
    if schema_id and (not isinstance(schema_id, str) or schema_id not in known_schemas):
        raise bad_request(f"Schema {schema_id} was not found", kind)
    resource.update({"connectionSpec": spec_ref, "state": "enabled", "data": data, "params": params})
    return _store(call, kind, resource)


def _store(call: Call, kind: str, resource: Resource) -> Response:
    import uuid

    resource["id"] = str(uuid.uuid4())
    call.table(kind)[resource["id"]] = resource
    return json_response({"id": resource["id"], "etag": resource["etag"]}, 201)


def patch_connection_like(call: Call, kind: str) -> Response:
    """``PATCH`` a base, source or target connection (JSON Patch with ``If-Match``)."""
    resource = get_or_404(call, kind, call.param("id"))
    check_if_match(call, resource, kind)
    patched = apply_json_patch(resource, call.body, kind)
    _check_types(patched, kind)
    if kind == "connections" and "auth" in patched:
        spec = specs.connection_spec(str((resource.get("connectionSpec") or {}).get("id"))) or {}
        auth = patched["auth"] if isinstance(patched["auth"], dict) else {}
        secret_names = password_params(spec.get("authSpec") or [], str(auth.get("specName")))
        patched["auth"] = mask_secrets(patched["auth"], secret_names)
    if patched.get("connectionSpec") != resource.get("connectionSpec"):
        raise bad_request("connectionSpec cannot be changed", kind)
    etag = new_etag()
    patched.update({"etag": etag, "version": etag, "updatedAt": call.store.now_ms()})
    call.table(kind)[resource["id"]] = patched
    return json_response({"id": resource["id"], "etag": etag})


def delete_connection_like(call: Call, kind: str) -> Response:
    """``DELETE`` a connection; a base connection still used by a flow is ``1418-400``."""
    resource = get_or_404(call, kind, call.param("id"))
    if kind == "connections":
        for flow in call.table("flows").values():
            for source_id in flow.get("sourceConnectionIds", []):
                source = call.table("sourceConnections").get(source_id) or {}
                if source.get("baseConnectionId") == resource["id"]:
                    raise flow_error(
                        "1418-400",
                        "Bad request",
                        f"Connection {resource['id']} is used by flow {flow['id']}; delete the flow first",
                        kind,
                    )
    del call.table(kind)[resource["id"]]
    return Response(status_code=204)
