"""Schema Registry (``/data/foundation/schemaregistry``): tenant schemas and classes, ``/stats``.

Titles are unique per sandbox across every resource kind (``XDM-1521-400``); an ad-hoc class gets its
``_adhoc`` property renamed to ``_<guid>``; tenant references must exist, standard XDM ones always do;
``meta:extends`` lists the whole inheritance chain (see :mod:`xdm_library`); lists page the way
help/xdm/api/appendix.md documents (see :mod:`registry_pages`).
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.body_types import XDM_RESOURCE_FIELDS, check_field_types
from aep_emulator.errors import ApiError, xdm_bad_request, xdm_error
from aep_emulator.filters import apply_filters
from aep_emulator.gateway import Call, Handler, json_response, platform_routes
from aep_emulator.registry_pages import registry_page
from aep_emulator.state import Resource, Store
from aep_emulator.xdm_library import (
    inheritance_chain,
    is_class,
    is_standard,
    standard_extends,
)

PREFIX = "/data/foundation/schemaregistry"
TITLED_KINDS = ("schemas", "classes")


def _tenant(call: Call) -> str:
    return call.store.settings.tenant_id


def _require_accept(call: Call, lookup: bool) -> None:
    accept = call.request.headers.get("accept", "")
    if "application/vnd.adobe.xed" in accept or "application/vnd.adobe.xdm" in accept:
        return
    code = "1007-400" if lookup else "1006-400"
    example = (
        "application/vnd.adobe.xed-full+json; version=1" if lookup else "application/vnd.adobe.xed-id+json"
    )
    raise xdm_error(
        code, "Accept header invalid", f"The supplied Accept header is not valid: {accept!r} - use {example}"
    )


def _check_title_unique(call: Call, title: str) -> None:
    for kind in TITLED_KINDS:
        for resource in call.table(kind).values():
            if resource.get("title") == title:
                raise xdm_error(
                    "1521-400",
                    "Title not unique",
                    f"Title must be unique. An object {resource['$id']} already exists with the same title",
                )


def _stored(call: Call, ref: str) -> Resource | None:
    stored = (resource for kind in TITLED_KINDS for resource in call.table(kind).values())
    return next((resource for resource in stored if resource["$id"] == ref), None)


def _known_ref(call: Call, ref: str) -> bool:
    return is_standard(ref) or _stored(call, ref) is not None


def _extends_of(call: Call, ref: str) -> Iterable[str]:
    """What ``ref`` extends: a standard resource's known chain, or a stored tenant resource's own."""
    if is_standard(ref):
        return standard_extends(ref)
    stored = _stored(call, ref)
    return list(stored.get("meta:extends") or []) if stored is not None else []


def _refs_of(body: dict[str, Any]) -> list[str]:
    """The ``$ref`` of every ``allOf`` entry; entries must be objects and ``$ref`` a string."""
    all_of = body.get("allOf")
    if not isinstance(all_of, list) or not all_of:
        raise xdm_error("1000-400", "Bad request", "allOf must reference at least one class")
    refs: list[str] = []
    for index, item in enumerate(all_of):
        if not isinstance(item, dict):
            raise xdm_error("1000-400", "Bad request", f"allOf[{index}] must be an object")
        if "$ref" in item:
            if not isinstance(item["$ref"], str) or not item["$ref"]:
                raise xdm_error("1000-400", "Bad request", f"allOf[{index}].$ref must be a non-empty string")
            refs.append(item["$ref"])
    return refs


def _create(call: Call, kind: str) -> Response:
    body = call.body
    if not isinstance(body, dict):
        raise xdm_error("1000-400", "Bad request", "The request body must be a JSON object")
    check_field_types(body, XDM_RESOURCE_FIELDS, xdm_bad_request)
    if not body.get("title"):
        raise xdm_error("1000-400", "Bad request", "title is required")
    refs = _refs_of(body)
    meta_class = body.get("meta:class")
    for ref in [*refs, *([meta_class] if meta_class else [])]:
        if not _known_ref(call, ref):
            raise xdm_error("1012-404", "Resource Not Found", f"Referenced resource {ref} is not found")
    _check_title_unique(call, body["title"])
    classes = [ref for ref in refs if is_class(ref)]
    if kind == "schemas" and not classes and not meta_class:
        raise xdm_error("1000-400", "Bad request", "A schema must reference exactly one class in allOf")
    tenant = _tenant(call)
    hex_id = secrets.token_hex(24)
    resource_id = f"https://ns.adobe.com/{tenant}/{kind}/{hex_id}"
    now_ms = call.store.now_ms()
    direct = list(dict.fromkeys(sorted(refs, key=is_class)))  # field groups first, the class last (seed 004)
    extended = [*refs, meta_class] if kind == "schemas" and meta_class else refs
    resource: Resource = {
        **copy.deepcopy(body),
        "$id": resource_id,
        "meta:altId": f"_{tenant}.{kind}.{hex_id}",
        "meta:resourceType": kind,
        "version": "1.0",
        "type": body.get("type") or "object",
        "refs": direct,
        "imsOrg": call.store.settings.org_id,
        "meta:extensible": kind == "classes",
        "meta:abstract": False,
        "meta:extends": inheritance_chain(extended, lambda ref: _extends_of(call, ref)),
        "meta:xdmType": "object",
        "meta:containerId": "tenant",
        "meta:tenantNamespace": f"_{tenant}",
        "meta:sandboxId": call.audit()["sandboxId"],
        "meta:sandboxType": "production" if call.sandbox == "prod" else "development",
        "meta:registryMetadata": {
            "repo:createdDate": now_ms,
            "repo:lastModifiedDate": now_ms,
            "xdm:createdClientId": call.store.settings.client_id,
            "xdm:lastModifiedClientId": call.store.settings.client_id,
            "eTag": secrets.token_hex(16),
        },
    }
    resource["allOf"] = [
        {**item, "type": "object", "meta:xdmType": "object"} if "$ref" in item else item
        for item in resource["allOf"]
    ]
    if kind == "schemas":
        resource["meta:class"] = meta_class or classes[0]
    else:
        resource["meta:class"] = resource_id
        _rename_adhoc(resource)
    call.table(kind)[resource_id] = resource
    return json_response(resource, 201)


def _rename_adhoc(resource: Resource) -> None:
    """Ad-hoc classes: the server renames the ``_adhoc`` property to ``_<guid>`` (seed 004)."""
    for item in resource.get("allOf", []):
        properties = item.get("properties") if isinstance(item, dict) else None
        if isinstance(properties, dict) and "_adhoc" in properties:
            properties[f"_{uuid.uuid4().hex}"] = properties.pop("_adhoc")


def _find(call: Call, kind: str) -> Resource:
    key = unquote(call.param("id"))
    table = call.table(kind)
    if key in table:
        return table[key]
    for resource in table.values():
        if resource["meta:altId"] == key:
            return resource
    raise xdm_error("1012-404", "Resource Not Found", f"Requested resource {key} is not found")


def _handlers(kind: str) -> dict[str, Handler]:
    def create(call: Call) -> Response:
        return _create(call, kind)

    def get_one(call: Call) -> Response:
        _require_accept(call, lookup=True)
        return json_response(_find(call, kind))

    def list_all(call: Call) -> Response:
        _require_accept(call, lookup=False)
        properties = [value for key, value in call.query if key == "property"]
        try:
            selected = apply_filters(list(call.table(kind).values()), properties)
        except ApiError as exc:
            raise xdm_error("1000-400", "Bad request", f"Invalid property filter: {properties}") from exc
        page, page_info = registry_page(selected, call.request.query_params)
        accept = call.request.headers.get("accept", "")
        full = "xed-full" in accept or "xed+json" in accept
        summary = ("$id", "meta:altId", "version", "title")
        results = page if full else [{key: item[key] for key in summary} for item in page]
        return json_response({"results": results, "_page": page_info, "_links": {}})

    def delete(call: Call) -> Response:
        resource = _find(call, kind)
        if kind == "classes":
            for schema in call.table("schemas").values():
                if resource["$id"] in schema.get("refs", []):
                    raise xdm_error("1000-400", "Bad request", f"Class is used by schema {schema['$id']}")
        else:
            for dataset in call.table("dataSets").values():
                if dataset.get("schemaRef", {}).get("id") == resource["$id"]:
                    raise xdm_error("1000-400", "Bad request", "Schema is used by a dataset")
        del call.table(kind)[resource["$id"]]
        return Response(status_code=204)

    return {"create": create, "get": get_one, "list": list_all, "delete": delete}


def stats(call: Call) -> Response:
    """``GET /stats``: the tenant id and resource counts."""
    tenant = _tenant(call)
    return json_response(
        {
            "imsOrg": call.store.settings.org_id,
            "tenantId": tenant,
            "counts": {
                "schemas": len(call.table("schemas")),
                "classes": len(call.table("classes")),
                "mixins": 0,
                "datatypes": 0,
                "unions": 0,
            },
            "recentlyCreatedResources": [],
            "recentlyUpdatedResources": [],
            "classUsage": {},
        }
    )


def schema_registry_routes(store: Store) -> list[Route]:
    """Schema Registry routes, wrapped with the gateway checks; creates take the create latency."""
    route = platform_routes(store, PREFIX, xdm_bad_request)
    result = [route("/stats", stats, "GET")]
    for kind in TITLED_KINDS:
        handlers = _handlers(kind)
        result += [
            route(f"/tenant/{kind}", handlers["list"], "GET"),
            route(f"/tenant/{kind}", handlers["create"], "POST", creates=True),
            route(f"/tenant/{kind}/{{id:path}}", handlers["get"], "GET"),
            route(f"/tenant/{kind}/{{id:path}}", handlers["delete"], "DELETE"),
        ]
    return result


__all__ = ["schema_registry_routes"]
