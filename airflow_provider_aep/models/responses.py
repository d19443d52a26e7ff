"""Lenient readers of AEP answers whose shape Adobe's documents disagree on.

Plain functions over parsed JSON. A reader that cannot find what it looks for raises
:class:`~airflow_provider_aep.exceptions.AEPError` describing the shape it got (key names only,
never values, which may hold credentials).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_aep.exceptions import AEPError

_CATALOG_REF_PREFIX = "@/"


def created_id(body: Any) -> str:
    """The id of a resource AEP just created, from any documented answer.

    Accepts ``{"id": ..., "etag": ...}`` (Flow Service), ``{"items": [{"id": ...}]}`` (the
    on-demand run tutorial), a whole object with ``id`` (a run, a mapping set) and Catalog's
    ``["@/dataSets/<id>"]``.

    :param body: the parsed JSON answer.
    :raises AEPError: no id in the answer.
    """
    if isinstance(body, list) and body:
        first = body[0]
        if isinstance(first, str) and first.strip():
            # Catalog answers ["@/dataSets/5e8918669cbbee18ad9771f3"]: the id is the last segment.
            return first.strip().removeprefix(_CATALOG_REF_PREFIX).rstrip("/").rsplit("/", 1)[-1]
        body = first
    if isinstance(body, Mapping):
        if _has_text(body, "id"):
            return str(body["id"])
        items = body.get("items")
        if isinstance(items, list) and items and isinstance(items[0], Mapping) and _has_text(items[0], "id"):
            return str(items[0]["id"])
    raise AEPError(f"AEP's answer to a create has no id ({describe_shape(body)})")


def first_item(body: Any) -> dict[str, Any]:
    """The resource of a single-resource GET: unwraps ``{"items": [{...}]}``, or returns a bare object.

    :param body: the parsed JSON answer.
    :raises AEPError: an empty ``items`` list, or not an object.
    """
    if isinstance(body, Mapping):
        items = body.get("items")
        if isinstance(items, list):
            if items and isinstance(items[0], Mapping):
                return dict(items[0])
            raise AEPError(f"AEP answered no item ({describe_shape(body)})")
        return dict(body)
    raise AEPError(f"AEP answered something that is not an object ({describe_shape(body)})")


def inlet_url(item: Any) -> str | None:
    """The streaming inlet URL of a flow or of an HTTP API base connection, or ``None``.

    Looks at ``inletUrl`` (Shopify tutorial), ``options.inletUrl`` (other tutorials) and
    ``auth.params.inletUrl`` (HTTP API base connection); ``{"items": [...]}`` is unwrapped.

    :param item: the flow or base connection, or the GET answer that wraps it.
    """
    if not isinstance(item, Mapping):
        return None
    if isinstance(item.get("items"), list):
        items = item["items"]
        item = items[0] if items and isinstance(items[0], Mapping) else {}
    for path in (("inletUrl",), ("options", "inletUrl"), ("auth", "params", "inletUrl")):
        value = _dig(item, path)
        if isinstance(value, str) and value:
            return value
    return None


def etag(item: Any) -> str | None:
    """The ``etag`` of a resource exactly as given, quotes included (``"\\"5e00-...\\""``).

    ``If-Match`` must carry it unchanged. ``{"items": [...]}`` is unwrapped.

    :param item: the resource, a create/update answer, or the GET answer that wraps it.
    """
    if isinstance(item, Mapping) and isinstance(item.get("items"), list):
        items = item["items"]
        item = items[0] if items else None
    if isinstance(item, Mapping) and isinstance(item.get("etag"), str):
        return str(item["etag"])
    return None


def schema_id(body: Any) -> str:
    """The ``$id`` of a Schema Registry resource (schema, class, field group).

    :param body: the parsed answer of a create or GET.
    :raises AEPError: no ``$id`` in the answer.
    """
    if isinstance(body, Mapping) and _has_text(body, "$id"):
        return str(body["$id"])
    raise AEPError(f"AEP's Schema Registry answer has no $id ({describe_shape(body)})")


def describe_shape(body: Any) -> str:
    """A value-free description of a JSON value, for error messages: ``object with keys a, b``."""
    if isinstance(body, Mapping):
        keys = ", ".join(sorted(str(key) for key in body)[:10])
        return f"object with keys {keys}" if keys else "empty object"
    if isinstance(body, list):
        return f"list of {len(body)}"
    return "null" if body is None else type(body).__name__


def _has_text(mapping: Mapping[str, Any], key: str) -> bool:
    value = mapping.get(key)
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value) != ""


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
