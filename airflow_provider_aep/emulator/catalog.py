"""Catalog Service (``/data/foundation/catalog``): datasets."""

from __future__ import annotations

import secrets

from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_aep.emulator.errors import ApiError, catalog_error
from airflow_provider_aep.emulator.filters import apply_filters
from airflow_provider_aep.emulator.gateway import Call, Handler, json_response, platform_endpoint
from airflow_provider_aep.emulator.state import Resource, Store

PREFIX = "/data/foundation/catalog"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _int_param(call: Call, name: str, default: int) -> int:
    raw = call.request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise catalog_error(400, f"Query parameter {name} must be an integer") from exc


def create_dataset(call: Call) -> Response:
    """``POST /dataSets[?requestDataSource=true]`` -> ``201 ["@/dataSets/<id>"]``."""
    body = call.body
    if not isinstance(body, dict):
        raise catalog_error(400, "The request body must be a JSON object")
    schema_ref = body.get("schemaRef")
    if not isinstance(schema_ref, dict) or not isinstance(schema_ref.get("id"), str):
        raise catalog_error(400, "schemaRef.id is required")
    if not any(schema["$id"] == schema_ref["id"] for schema in call.table("schemas").values()):
        raise catalog_error(400, f"Schema {schema_ref['id']} was not found")
    dataset_id = secrets.token_hex(12)
    now_ms = call.store.now_ms()
    settings = call.store.settings
    dataset: Resource = {
        "name": body.get("name", ""),
        "description": body.get("description", ""),
        "schemaRef": {"id": schema_ref["id"], "contentType": schema_ref.get("contentType", "")},
        "imsOrg": settings.org_id,
        "sandboxId": call.audit()["sandboxId"],
        "tags": body.get("tags", {}),
        "version": "1.0.0",
        "created": now_ms,
        "updated": now_ms,
        "createdClient": settings.client_id,
        "createdUser": f"{settings.client_id}@AdobeID",
        "updatedUser": f"{settings.client_id}@AdobeID",
        "viewId": secrets.token_hex(12),
        "files": f"@/dataSetFiles?dataSetId={dataset_id}",
    }
    if "fileDescription" in body:
        dataset["fileDescription"] = body["fileDescription"]
    if call.request.query_params.get("requestDataSource", "").lower() == "true":
        dataset["dataSourceId"] = int(now_ms % 100000)
    call.table("dataSets")[dataset_id] = dataset
    return json_response([f"@/dataSets/{dataset_id}"], 201)


def list_datasets(call: Call) -> Response:
    """``GET /dataSets``: an object keyed by id; ``limit`` (<= 100), ``start``, ``property`` filters."""
    limit = _int_param(call, "limit", DEFAULT_LIMIT)
    start = _int_param(call, "start", 0)
    if limit < 1 or limit > MAX_LIMIT:
        raise catalog_error(400, f"limit must be between 1 and {MAX_LIMIT}")
    if start < 0:
        raise catalog_error(400, "start must not be negative")
    properties = [value for key, value in call.query if key == "property"]
    entries = [{"id": key, **value} for key, value in call.table("dataSets").items()]
    try:
        selected = apply_filters(entries, properties)
    except ApiError as exc:
        raise catalog_error(400, "Invalid property filter") from exc
    page = selected[start : start + limit]
    return json_response({entry["id"]: {k: v for k, v in entry.items() if k != "id"} for entry in page})


def get_dataset(call: Call) -> Response:
    """``GET /dataSets/{id}`` -> ``{"<id>": {...}}``."""
    dataset_id = call.param("id")
    dataset = call.table("dataSets").get(dataset_id)
    if dataset is None:
        raise catalog_error(404, f"Dataset {dataset_id} was not found")
    return json_response({dataset_id: dataset})


def delete_dataset(call: Call) -> Response:
    """``DELETE /dataSets/{id}`` -> ``200 ["@/dataSets/<id>"]``."""
    dataset_id = call.param("id")
    if call.table("dataSets").pop(dataset_id, None) is None:
        raise catalog_error(404, f"Dataset {dataset_id} was not found")
    return json_response([f"@/dataSets/{dataset_id}"])


def catalog_routes(store: Store) -> list[Route]:
    """Catalog routes, wrapped with the gateway checks."""

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(PREFIX + path, platform_endpoint(store, handler), methods=[method])

    return [
        route("/dataSets", list_datasets, "GET"),
        route("/dataSets", create_dataset, "POST"),
        route("/dataSets/{id}", get_dataset, "GET"),
        route("/dataSets/{id}", delete_dataset, "DELETE"),
    ]
