"""Flow Service dataflows: create (with every referential check), read, patch, enable/disable, delete."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from starlette.responses import Response

from aep_emulator import runs, specs
from aep_emulator.body_types import FLOW_FIELDS, check_field_types
from aep_emulator.errors import flow_error
from aep_emulator.gateway import Call, json_response, require_object
from aep_emulator.resources import (
    MAX_EPOCH,
    MAX_INTERVAL,
    apply_json_patch,
    bad_request,
    check_if_match,
    check_range,
    get_or_404,
    validate_against,
)
from aep_emulator.runs import new_etag
from aep_emulator.state import Resource

KIND = "flows"


def _connection_infos(call: Call, ids: Any, kind: str, allowed: list[str]) -> list[dict[str, Any]]:
    if not isinstance(ids, list) or not ids or not all(isinstance(item, str) for item in ids):
        raise bad_request(f"{kind[:-1]}Ids must be a non-empty array of ids", KIND)
    infos = []
    for connection_id in ids:
        connection = call.table(kind).get(connection_id)
        if connection is None:
            raise bad_request(f"{kind[:-1]} {connection_id} was not found", KIND)
        if connection["connectionSpec"]["id"] not in allowed:
            raise bad_request(
                f"{kind[:-1]} {connection_id} uses connection spec {connection['connectionSpec']['id']}, "
                "which this flow spec does not support",
                KIND,
            )
        info: dict[str, Any] = {"id": connection_id, "connectionSpec": connection["connectionSpec"]}
        base_id = connection.get("baseConnectionId")
        if base_id and base_id in call.table("connections"):
            base = call.table("connections")[base_id]
            info["baseConnection"] = {"id": base_id, "connectionSpec": base["connectionSpec"]}
        infos.append(info)
    return infos


def _transformations(call: Call, raw: Any, spec: dict[str, Any]) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("transformations must be an array", KIND)
    by_name = {item["name"]: item["spec"] for item in spec.get("transformationSpecs", [])}
    result = []
    for transformation in raw:
        if not isinstance(transformation, dict) or not isinstance(transformation.get("params"), dict):
            raise bad_request("each transformation needs a name and params", KIND)
        name = transformation.get("name")
        if not isinstance(name, str) or name not in by_name:
            raise bad_request(f"Transformation {name!r} is not supported by flow spec {spec['name']}", KIND)
        params = validate_against(transformation["params"], by_name[name], f"transformation {name}", KIND)
        if name == "Mapping":
            mapping_id = params.get("mappingId")
            if mapping_id is not None and mapping_id not in call.table("mappingSets"):
                raise bad_request(f"Mapping set {mapping_id} was not found", KIND)
        result.append({"name": name, "params": params})
    return result


def _schedule(raw: Any, spec: dict[str, Any]) -> dict[str, Any] | None:
    if raw is None:
        return None
    schedule_spec = spec.get("scheduleSpec")
    if schedule_spec is None:
        raise bad_request(f"Flow spec {spec['name']} takes no scheduleParams", KIND)
    schedule: dict[str, Any] = validate_against(raw, schedule_spec["spec"], "scheduleParams", KIND)
    check_range(schedule["startTime"], 0, MAX_EPOCH, "scheduleParams.startTime", KIND)
    if "interval" in schedule:
        check_range(schedule["interval"], 1, MAX_INTERVAL, "scheduleParams.interval", KIND)
    # Stored as FlowItemDTO's ScheduleSpecDTO types: integer startTime, string interval.
    if "interval" in schedule:
        schedule["interval"] = str(schedule["interval"])
    return schedule


def _validated(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """Everything a flow may hold, checked against its flow spec and the sandbox's resources."""
    check_field_types(body, FLOW_FIELDS, lambda message: bad_request(message, KIND))
    flow_spec_ref = body.get("flowSpec")
    if not isinstance(flow_spec_ref, dict) or not isinstance(flow_spec_ref.get("id"), str):
        raise bad_request("flowSpec.id is required", KIND)
    spec = specs.flow_spec(flow_spec_ref["id"])
    if spec is None:
        raise bad_request(f"Flow spec {flow_spec_ref['id']} was not found", KIND)
    sources = _connection_infos(
        call, body.get("sourceConnectionIds"), "sourceConnections", spec["sourceConnectionSpecIds"]
    )
    targets = _connection_infos(
        call, body.get("targetConnectionIds"), "targetConnections", spec["targetConnectionSpecIds"]
    )
    if not isinstance(body.get("name"), str) or not body["name"]:
        raise bad_request("name is required", KIND)
    fields: dict[str, Any] = {
        "name": body["name"],
        "flowSpec": {"id": spec["id"], "version": str(flow_spec_ref.get("version", spec["version"]))},
        "sourceConnectionIds": list(body["sourceConnectionIds"]),
        "targetConnectionIds": list(body["targetConnectionIds"]),
        "inheritedAttributes": {"sourceConnections": sources, "targetConnections": targets},
        "transformations": _transformations(call, body.get("transformations"), spec),
    }
    schedule = _schedule(body.get("scheduleParams"), spec)
    if schedule is not None:
        fields["scheduleParams"] = schedule
    for optional in ("description", "options"):
        if optional in body:
            fields[optional] = body[optional]
    return fields


def create_flow(call: Call) -> Response:
    """``POST /flows``: ``state`` on create is ``1410-400``; every reference must exist."""
    body = require_object(call.body, KIND)
    if "state" in body:
        raise flow_error("1410-400", "Bad request", "state cannot be set when creating a flow", KIND)
    fields = _validated(call, body)
    flow_id = str(uuid.uuid4())
    etag = new_etag()
    now_ms = call.store.now_ms()
    flow: Resource = {
        "id": flow_id,
        **call.audit(),
        **fields,
        "state": "enabled",
        "version": etag,
        "etag": etag,
        "runs": f"/runs?property=flowId=={flow_id}",
        "lastOperation": {"started": now_ms, "updated": now_ms, "operation": "create"},
    }
    call.table(KIND)[flow_id] = flow
    if specs.is_streaming(flow["flowSpec"]["id"]):
        _open_inlet(call, flow)
    else:
        runs.init_schedule(call.store, call.sandbox, flow, call.store.now())
    return json_response({"id": flow_id, "etag": etag}, 201)


def _open_inlet(call: Call, flow: Resource) -> None:
    inlet_id = hashlib.sha256(f"{call.sandbox}:{flow['id']}".encode()).hexdigest()
    target = call.table("targetConnections").get(flow["targetConnectionIds"][0]) or {}
    call.table("inlets")[flow["id"]] = {
        "inletId": inlet_id,
        "flowId": flow["id"],
        "dataSetId": (target.get("params") or {}).get("dataSetId"),
        "records": 0,
    }
    runs.create_run(
        call.store, call.sandbox, flow, run_at=call.store.now(), window=None, params={}, kind="streaming"
    )


def render_flow(call: Call, flow: Resource) -> Resource:
    """The flow as ``GET /flows/{id}`` shows it: plus ``lastRunDetails`` and a streaming ``inletUrl``."""
    rendered = dict(flow)
    details = runs.last_run_details(call.store, call.sandbox, flow["id"])
    if details is not None:
        rendered["lastRunDetails"] = details
    inlet = call.table("inlets").get(flow["id"])
    if inlet is not None:
        url = f"{call.base_url}/collection/{inlet['inletId']}"
        if call.store.config.inlet_url_location == "options":
            rendered["options"] = {**(flow.get("options") or {}), "inletUrl": url}
        else:
            rendered["inletUrl"] = url
    return rendered


def patch_flow(call: Call) -> Response:
    """``PATCH /flows/{id}``: JSON Patch with ``If-Match``; the result is re-validated like a create."""
    flow = get_or_404(call, KIND, call.param("id"))
    check_if_match(call, flow, KIND)
    patched = apply_json_patch(flow, call.body, KIND)
    if patched.get("state") != flow.get("state"):
        raise bad_request("state changes go through POST /flows/{id}/action", KIND)
    patched_spec = patched.get("flowSpec")
    if not isinstance(patched_spec, dict) or patched_spec.get("id") != flow["flowSpec"]["id"]:
        raise bad_request("flowSpec cannot be changed", KIND)
    fields = _validated(call, patched)
    etag = new_etag()
    now_ms = call.store.now_ms()
    updated = {**patched, **fields, "etag": etag, "version": etag, "updatedAt": now_ms}
    if "scheduleParams" not in fields:
        updated.pop("scheduleParams", None)
    updated["lastOperation"] = {"started": now_ms, "updated": now_ms, "operation": "update"}
    call.table(KIND)[flow["id"]] = updated
    if updated.get("scheduleParams") != flow.get("scheduleParams"):
        runs.init_schedule(call.store, call.sandbox, updated, call.store.now())
    return json_response({"id": flow["id"], "etag": etag})


def flow_action(call: Call) -> Response:
    """``POST /flows/{id}/action?op=enable|disable`` (any letter case)."""
    flow = get_or_404(call, KIND, call.param("id"))
    op = call.request.query_params.get("op", "").lower()
    if op not in ("enable", "disable"):
        raise bad_request(f"Unsupported action op {op!r}: use enable or disable", KIND)
    if_match = call.request.headers.get("if-match")
    if if_match:
        check_if_match(call, flow, KIND)
    new_state = "enabled" if op == "enable" else "disabled"
    if flow["state"] != new_state:
        if new_state == "enabled":
            runs.resume_schedule(call.store, call.sandbox, flow)
        else:
            runs.refresh_flow(call.store, call.sandbox, flow)
        etag = new_etag()
        now_ms = call.store.now_ms()
        flow.update({"state": new_state, "etag": etag, "version": etag, "updatedAt": now_ms})
        flow["lastOperation"] = {"started": now_ms, "updated": now_ms, "operation": op}
    return json_response({"id": flow["id"], "etag": flow["etag"]})


def delete_flow(call: Call) -> Response:
    """``DELETE /flows/{id}``: a later GET is ``1439-404``; its runs stay as history."""
    flow = get_or_404(call, KIND, call.param("id"))
    del call.table(KIND)[flow["id"]]
    call.table("inlets").pop(flow["id"], None)
    call.table("scheduleCursors").pop(flow["id"], None)
    return Response(status_code=204)
