"""Catalog Service (``/data/foundation/catalog``): datasets.

Sources: ``catalog.yaml`` (``createDataset``, ``listDatasets``, ``retrieveDataset``, ``deleteDataset``,
``listBatches``, ``retrieveBatch``)
and the pages summarised in ``adobe-docs/catalog/`` (``help/catalog/api/filter-data.md``,
``list-objects.md``, ``look-up-object.md``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.body_types import DATASET_FIELDS, check_field_types, check_string_lists
from aep_emulator.errors import ApiError, catalog_bad_request, catalog_error
from aep_emulator.filters import apply_filters
from aep_emulator.gateway import Call, int_param, json_response, platform_routes
from aep_emulator.state import Resource, Store
from aep_emulator.xdm_library import data_behaviour

PREFIX = "/data/foundation/catalog"
# help/catalog/api/filter-data.md: with no ``limit`` a list answers at most 20 objects; ``limit`` is
# valid from 1 to 100 (the global maximum), and anything else is a 400-level error naming that range.
DEFAULT_LIMIT = 20
MIN_LIMIT, MAX_LIMIT = 1, 100
# The table format tag a new dataset carries (``datasetPatchRequestV2.tags`` in catalog.yaml, and the
# dataset shown by help/catalog/api/update-object.md).
TABLE_FORMAT = "delta"
_NOT_A_TABLE_CHARACTER = re.compile(r"[^a-z0-9]+")


def table_name(dataset_name: str) -> str:
    """The Query Service table of a dataset (its ``adobe/pqs/table`` tag): the name in lower case with
    every run of other characters turned into ``_``, as help/catalog/api/look-up-object.md shows
    ("Sample Dataset" is the table ``sample_dataset``)."""
    return _NOT_A_TABLE_CHARACTER.sub("_", dataset_name.lower()).strip("_") or "dataset"


def _tags(body: dict[str, Any], name: str) -> dict[str, list[str]]:
    """Catalog's system tags of a new dataset, then the caller's own (``unifiedProfile``...)."""
    requested = body.get("tags") or {}
    check_string_lists(requested, "tags", catalog_bad_request)
    return {"adobe/pqs/table": [table_name(name)], "adobe/siphon/table/format": [TABLE_FORMAT], **requested}


def _classification(schema: Resource) -> dict[str, str]:
    """``classification`` of a dataset (``datasetPatchRequestV2`` in catalog.yaml): ``dataBehavior`` is
    the behaviour of the schema's class (``record``, ``time-series``...), ``managedBy`` ``CUSTOMER``
    for datasets a client creates."""
    behaviour = data_behaviour(schema.get("meta:extends") or []) or "record"
    return {"dataBehavior": behaviour, "managedBy": "CUSTOMER"}


def create_dataset(call: Call) -> Response:
    """``POST /dataSets[?requestDataSource=true]`` -> ``201 ["@/dataSets/<id>"]``."""
    body = call.body
    if not isinstance(body, dict):
        raise catalog_error(400, "The request body must be a JSON object")
    check_field_types(body, DATASET_FIELDS, catalog_bad_request)
    schema_ref = body.get("schemaRef")
    if not isinstance(schema_ref, dict) or not isinstance(schema_ref.get("id"), str):
        raise catalog_error(400, "schemaRef.id is required")
    check_field_types(schema_ref, {"contentType": "string"}, catalog_bad_request)
    schema = next((item for item in call.table("schemas").values() if item["$id"] == schema_ref["id"]), None)
    if schema is None:
        raise catalog_error(400, f"Schema {schema_ref['id']} was not found")
    dataset_id = secrets.token_hex(12)
    now_ms = call.store.now_ms()
    settings = call.store.settings
    name = body.get("name") or ""
    dataset: Resource = {
        "name": name,
        "description": body.get("description") or "",
        "schemaRef": {"id": schema_ref["id"], "contentType": schema_ref.get("contentType") or ""},
        "imsOrg": settings.org_id,
        "sandboxId": call.audit()["sandboxId"],
        "tags": _tags(body, name),
        "classification": _classification(schema),
        "version": "1.0.0",
        "created": now_ms,
        "updated": now_ms,
        "createdClient": settings.client_id,
        "createdUser": f"{settings.client_id}@AdobeID",
        "updatedUser": f"{settings.client_id}@AdobeID",
        "viewId": secrets.token_hex(12),
        "files": f"@/dataSetFiles?dataSetId={dataset_id}",
    }
    for optional in ("fileDescription", "enableErrorDiagnostics"):
        if body.get(optional) is not None:
            dataset[optional] = body[optional]
    if call.request.query_params.get("requestDataSource", "").lower() == "true":
        dataset["dataSourceId"] = int(now_ms % 100000)
    call.table("dataSets")[dataset_id] = dataset
    return json_response([f"@/dataSets/{dataset_id}"], 201)


def list_datasets(call: Call) -> Response:
    """``GET /dataSets``: an object keyed by id (list-objects.md), one page of it: ``start`` is a
    zero-based offset and ``limit`` 1..100, 20 objects when absent (filter-data.md); a client gets every
    dataset by asking again with ``start`` moved past what it received, until a page comes back empty."""
    query = call.request.query_params
    limit = int_param(query, "limit", DEFAULT_LIMIT, MIN_LIMIT, MAX_LIMIT, catalog_bad_request)
    start = int_param(query, "start", 0, 0, None, catalog_bad_request)
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


def get_batch(call: Call) -> Response:
    """``GET /batches/{id}`` -> ``{"<id>": batch}`` (keyed by id, like every Catalog object): the batch a
    finished flow run wrote (help/ingestion/quality/error-diagnostics.md)."""
    from aep_emulator import batches, runs

    runs.refresh_sandbox(call.store, call.sandbox)
    batch = batches.render_batch(call.store, call.sandbox, call.param("id"))
    if batch is None:
        raise catalog_error(404, f"Batch {call.param('id')} was not found")
    return json_response({batch["id"]: {key: value for key, value in batch.items() if key != "id"}})


def list_batches(call: Call) -> Response:
    """``GET /batches``: the batches runs wrote, keyed by id, paged like every Catalog list (20 without
    ``limit``), filtered by ``dataSet``, ``status``, ``createdAfter``/``createdBefore`` (exclusive, epoch
    ms) and ``property`` (``catalog.yaml`` ``listBatches``; help/catalog/api/filter-data.md)."""
    from aep_emulator import batches, runs

    query = call.request.query_params
    limit = int_param(query, "limit", DEFAULT_LIMIT, MIN_LIMIT, MAX_LIMIT, catalog_bad_request)
    start = int_param(query, "start", 0, 0, None, catalog_bad_request)
    after = int_param(query, "createdAfter", 0, 0, None, catalog_bad_request)
    before = int_param(query, "createdBefore", 2**62, 0, None, catalog_bad_request)
    runs.refresh_sandbox(call.store, call.sandbox)
    selected = [
        batch
        for batch in batches.all_batches(call.store, call.sandbox)
        if after < batch["created"] < before
        and (query.get("status") is None or batch["status"] == query.get("status"))
        and (
            query.get("dataSet") is None
            or any(related.get("id") == query.get("dataSet") for related in batch["relatedObjects"])
        )
    ]
    properties = [value for key, value in call.query if key == "property"]
    try:
        selected = apply_filters(selected, properties)
    except ApiError as exc:
        raise catalog_error(400, "Invalid property filter") from exc
    page = selected[start : start + limit]
    return json_response({batch["id"]: {k: v for k, v in batch.items() if k != "id"} for batch in page})


def catalog_routes(store: Store) -> list[Route]:
    """Catalog routes, wrapped with the gateway checks; creating a dataset takes the create latency."""
    route = platform_routes(store, PREFIX, catalog_bad_request)
    return [
        route("/dataSets", list_datasets, "GET"),
        route("/dataSets", create_dataset, "POST", creates=True),
        route("/dataSets/{id}", get_dataset, "GET"),
        route("/dataSets/{id}", delete_dataset, "DELETE"),
        route("/batches", list_batches, "GET"),
        route("/batches/{id}", get_batch, "GET"),
    ]
