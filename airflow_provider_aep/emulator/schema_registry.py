"""Schema Registry (``/data/foundation/schemaregistry``): tenant schemas and classes, ``/stats``.

Titles are unique per sandbox across every resource kind (``XDM-1521-400``); an ad-hoc class gets its
``_adhoc`` property renamed to ``_<guid>``; tenant references must exist, standard XDM ones always do.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from urllib.parse import unquote

from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_aep.emulator.errors import xdm_error
from airflow_provider_aep.emulator.filters import apply_filters
from airflow_provider_aep.emulator.gateway import Call, Handler, json_response, platform_endpoint
from airflow_provider_aep.emulator.state import Resource, Store

PREFIX = "/data/foundation/schemaregistry"
STANDARD_PREFIX = "https://ns.adobe.com/xdm/"
STANDARD_CLASSES = {
    "https://ns.adobe.com/xdm/context/profile",
    "https://ns.adobe.com/xdm/context/experienceevent",
    "https://ns.adobe.com/xdm/data/record",
    "https://ns.adobe.com/xdm/data/time-series",
    "https://ns.adobe.com/xdm/data/adhoc",
}
BEHAVIOURS = {"https://ns.adobe.com/xdm/data/record", "https://ns.adobe.com/xdm/data/time-series"}
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


def _known_ref(call: Call, ref: str) -> bool:
    if ref.startswith(STANDARD_PREFIX):
        return True
    return any(resource["$id"] == ref for kind in TITLED_KINDS for resource in call.table(kind).values())


def _create(call: Call, kind: str) -> Response:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"]:
        raise xdm_error("1000-400", "Bad request", "title is required")
    all_of = body.get("allOf")
    if not isinstance(all_of, list) or not all_of:
        raise xdm_error("1000-400", "Bad request", "allOf must reference at least one class")
    refs = [item["$ref"] for item in all_of if isinstance(item, dict) and isinstance(item.get("$ref"), str)]
    for ref in refs:
        if not _known_ref(call, ref):
            raise xdm_error("1012-404", "Resource Not Found", f"Referenced resource {ref} is not found")
    _check_title_unique(call, body["title"])
    classes = [ref for ref in refs if ref in STANDARD_CLASSES or "/classes/" in ref]
    if kind == "schemas" and not classes and not body.get("meta:class"):
        raise xdm_error("1000-400", "Bad request", "A schema must reference exactly one class in allOf")
    tenant = _tenant(call)
    hex_id = secrets.token_hex(24)
    resource_id = f"https://ns.adobe.com/{tenant}/{kind}/{hex_id}"
    now_ms = call.store.now_ms()
    resource: Resource = {
        **copy.deepcopy(body),
        "$id": resource_id,
        "meta:altId": f"_{tenant}.{kind}.{hex_id}",
        "meta:resourceType": kind,
        "version": "1.0",
        "type": body.get("type", "object"),
        "refs": sorted(set(refs)),
        "imsOrg": call.store.settings.org_id,
        "meta:extensible": kind == "classes",
        "meta:abstract": False,
        "meta:extends": sorted(set(refs)),
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
        {**item, "type": "object", "meta:xdmType": "object"}
        if isinstance(item, dict) and "$ref" in item
        else item
        for item in resource["allOf"]
    ]
    if kind == "schemas":
        resource["meta:class"] = body.get("meta:class") or classes[0]
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
        selected = apply_filters(list(call.table(kind).values()), properties)
        full = "xed-full" in call.request.headers.get("accept", "") or "xed+json" in call.request.headers.get(
            "accept", ""
        )
        results = (
            selected
            if full
            else [{key: item[key] for key in ("$id", "meta:altId", "version", "title")} for item in selected]
        )
        return json_response(
            {
                "results": results,
                "_page": {"orderby": "title", "next": None, "count": len(results)},
                "_links": {},
            }
        )

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
    """Schema Registry routes, wrapped with the gateway checks."""

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(PREFIX + path, platform_endpoint(store, handler), methods=[method])

    result = [route("/stats", stats, "GET")]
    for kind in TITLED_KINDS:
        handlers = _handlers(kind)
        result += [
            route(f"/tenant/{kind}", handlers["list"], "GET"),
            route(f"/tenant/{kind}", handlers["create"], "POST"),
            route(f"/tenant/{kind}/{{id:path}}", handlers["get"], "GET"),
            route(f"/tenant/{kind}/{{id:path}}", handlers["delete"], "DELETE"),
        ]
    return result


__all__ = ["schema_registry_routes"]
