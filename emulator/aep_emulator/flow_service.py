"""Flow Service routes (``/data/foundation/flowservice``): connections, flows, specs and runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator import connections, flows, runs, specs
from aep_emulator.body_types import RUN_FIELDS, check_field_types
from aep_emulator.errors import flow_error
from aep_emulator.filters import paginate_flow_list
from aep_emulator.gateway import (
    Call,
    Handler,
    json_response,
    platform_routes,
    require_object,
)
from aep_emulator.resources import (
    MAX_EPOCH,
    bad_request,
    check_range,
    get_or_404,
    validate_against,
)
from aep_emulator.state import Resource, Store

PREFIX = "/data/foundation/flowservice"
CONNECTION_KINDS = ("connections", "sourceConnections", "targetConnections")


def _list(call: Call, items: list[Resource], path: str) -> Response:
    return json_response(paginate_flow_list(items, call.query, path))


def _rendered_flows(call: Call) -> list[Resource]:
    runs.refresh_sandbox(call.store, call.sandbox)
    call.mutated = True
    return [flows.render_flow(call, flow) for flow in call.table("flows").values()]


def list_flows(call: Call) -> Response:
    """``GET /flows`` with filters, ordering and paging."""
    return _list(call, _rendered_flows(call), "/flows")


def get_flow(call: Call) -> Response:
    """``GET /flows/{id}`` -> ``{"items": [flow]}``."""
    flow = get_or_404(call, "flows", call.param("id"))
    runs.refresh_flow(call.store, call.sandbox, flow)
    call.mutated = True
    return json_response({"items": [flows.render_flow(call, flow)]})


def _connection_handlers(kind: str) -> dict[str, Handler]:
    creators: dict[str, Handler] = {
        "connections": connections.create_connection,
        "sourceConnections": connections.create_source_connection,
        "targetConnections": connections.create_target_connection,
    }

    def list_all(call: Call) -> Response:
        return _list(call, list(call.table(kind).values()), f"/{kind}")

    def get_one(call: Call) -> Response:
        return json_response({"items": [get_or_404(call, kind, call.param("id"))]})

    def patch(call: Call) -> Response:
        return connections.patch_connection_like(call, kind)

    def delete(call: Call) -> Response:
        return connections.delete_connection_like(call, kind)

    return {"list": list_all, "create": creators[kind], "get": get_one, "patch": patch, "delete": delete}


def _spec_handlers(
    kind: str, catalog: list[dict[str, Any]], lookup: Callable[[str], Any]
) -> dict[str, Handler]:
    def list_all(call: Call) -> Response:
        return _list(call, [dict(spec) for spec in catalog], f"/{kind}")

    def get_one(call: Call) -> Response:
        spec = lookup(call.param("id"))
        if spec is None:
            raise flow_error(
                "1439-404", "Resource not found", f"No {kind} found with id {call.param('id')}", kind
            )
        return json_response({"items": [spec]})

    return {"list": list_all, "get": get_one}


def create_run(call: Call) -> Response:
    """``POST /runs``: an on-demand run, only for batch flows scheduled ``once``."""
    body = require_object(call.body, "runs")
    check_field_types(body, RUN_FIELDS, lambda message: bad_request(message, "runs"))
    flow_id = body.get("flowId")
    if not isinstance(flow_id, str) or flow_id not in call.table("flows"):
        raise bad_request(f"Flow {flow_id} was not found", "runs")
    flow = call.table("flows")[flow_id]
    if specs.is_streaming(flow["flowSpec"]["id"]):
        raise bad_request("On-demand runs are only supported for batch flows", "runs")
    if (flow.get("scheduleParams") or {}).get("frequency") != "once":
        raise bad_request(
            "On-demand runs are only supported for flows whose schedule frequency is once", "runs"
        )
    spec = specs.flow_spec(flow["flowSpec"]["id"]) or {}
    params = body.get("params")
    if not isinstance(params, dict):
        raise bad_request("params is required", "runs")
    params = validate_against(params, spec["runSpec"]["spec"], "run params", "runs")
    for name in ("startTime", "windowStartTime", "windowEndTime"):
        check_range(params[name], 0, MAX_EPOCH, f"params.{name}", "runs")
    window_start = runs.to_seconds(params["windowStartTime"])
    window_end = runs.to_seconds(params["windowEndTime"])
    if window_end < window_start:
        raise bad_request("windowEndTime must not be before windowStartTime", "runs")
    run_at = max(call.store.now(), runs.to_seconds(params["startTime"]))
    run = runs.create_run(
        call.store,
        call.sandbox,
        flow,
        run_at=run_at,
        window=(window_start, window_end),
        params=params,
        kind="onDemand",
    )
    run["createdAt"] = run["updatedAt"] = call.store.now_ms()
    shape = call.store.config.post_runs_shape
    if shape == "items":
        return json_response({"items": [{"id": run["id"], "etag": run["etag"]}]}, 201)
    if shape == "run":
        return json_response(runs.render_run(call.store, call.sandbox, run, echo_params=True), 201)
    return json_response({"id": run["id"], "etag": run["etag"]}, 201)


def list_runs(call: Call) -> Response:
    """``GET /runs`` (typically ``property=flowId==<id>``), rendered at the current emulated time."""
    runs.refresh_sandbox(call.store, call.sandbox)
    call.mutated = True
    stored = _runs_matching_ids(call, list(call.table("runs").values()))
    rendered = [runs.render_run(call.store, call.sandbox, run) for run in stored]
    return _list(call, rendered, "/runs")


def _runs_matching_ids(call: Call, stored: list[Resource]) -> list[Resource]:
    """Only the runs an ``id==``/``flowId==`` filter can match, before rendering (the costly part).

    An optimisation only: the full filters still apply to the rendered runs afterwards.
    """
    for expression in call.request.query_params.getlist("property"):
        for field in ("id", "flowId"):
            prefix = f"{field}=="
            if expression.startswith(prefix):
                values = expression[len(prefix) :].split(",")
                wanted = {value.strip().strip('"').lower() for value in values}
                stored = [run for run in stored if str(run.get(field)).lower() in wanted]
    return stored


def get_run(call: Call) -> Response:
    """``GET /runs/{id}`` -> ``{"items": [run]}``."""
    runs.refresh_sandbox(call.store, call.sandbox)
    call.mutated = True
    run = get_or_404(call, "runs", call.param("id"))
    return json_response({"items": [runs.render_run(call.store, call.sandbox, run)]})


def flow_service_routes(store: Store) -> list[Route]:
    """Every Flow Service route, wrapped with the gateway checks; resource creates (not runs) take the
    configured create latency."""
    route = platform_routes(store, PREFIX)
    result: list[Route] = []
    for kind in CONNECTION_KINDS:
        handlers = _connection_handlers(kind)
        result += [
            route(f"/{kind}", handlers["list"], "GET"),
            route(f"/{kind}", handlers["create"], "POST", creates=True),
            route(f"/{kind}/{{id}}", handlers["get"], "GET"),
            route(f"/{kind}/{{id}}", handlers["patch"], "PATCH"),
            route(f"/{kind}/{{id}}", handlers["delete"], "DELETE"),
        ]
    for kind, catalog, lookup in (
        ("flowSpecs", specs.FLOW_SPECS, specs.flow_spec),
        ("connectionSpecs", specs.CONNECTION_SPECS, specs.connection_spec),
    ):
        handlers = _spec_handlers(kind, catalog, lookup)
        result += [
            route(f"/{kind}", handlers["list"], "GET"),
            route(f"/{kind}/{{id}}", handlers["get"], "GET"),
        ]
    result += [
        route("/flows", list_flows, "GET"),
        route("/flows", flows.create_flow, "POST", creates=True),
        route("/flows/{id}", get_flow, "GET"),
        route("/flows/{id}", flows.patch_flow, "PATCH"),
        route("/flows/{id}", flows.delete_flow, "DELETE"),
        route("/flows/{id}/action", flows.flow_action, "POST"),
        route("/runs", list_runs, "GET"),
        route("/runs", create_run, "POST"),
        route("/runs/{id}", get_run, "GET"),
    ]
    return result
