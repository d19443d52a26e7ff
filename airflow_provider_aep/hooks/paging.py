"""Reading AEP list answers and building their ``property=`` filters (no I/O here).

AEP lists come in three shapes, one per service family:

* Flow Service: ``{"items": [...], "_links": {"next": {"href": "/flows?continuationToken=..."}}}``,
  the last page having ``"_links": {}``;
* Schema Registry: ``{"results": [...], "_page": {...}, "_links": {"next": {"href": ...}}}``;
* Catalog: an object keyed by id (``{"<id>": {...}, ...}``), paged with ``start`` and ``limit``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Catalog answers at most 100 objects a page.
CATALOG_PAGE_SIZE = 100

_NEEDS_QUOTES = re.compile(r'[\s,=!<>"\\&]')


@dataclass(frozen=True)
class Page:
    """One page of a list: its objects, and where the next page is (``None`` on the last)."""

    items: list[dict[str, Any]]
    next_path: str | None = None
    next_params: dict[str, Any] | None = None


def read_page(body: Any, path: str, params: Mapping[str, Any] | None) -> Page:
    """Split one list answer into its objects and the request for the next page."""
    params = dict(params or {})
    if isinstance(body, list):
        return Page([item for item in body if isinstance(item, dict)])
    if not isinstance(body, dict):
        return Page([])
    for key in ("items", "results", "children"):
        if isinstance(body.get(key), list):
            return Page(
                [item for item in body[key] if isinstance(item, dict)],
                next_path=_next_href(body),
            )
    # Catalog: an object keyed by id; the id is not repeated inside every object, so add it.
    items = [
        {"id": key, **value}
        for key, value in body.items()
        if isinstance(value, dict) and not key.startswith("_")
    ]
    limit = int(params.get("limit", CATALOG_PAGE_SIZE))
    if items and len(items) >= limit:
        next_params = {**params, "start": int(params.get("start", 0)) + len(items), "limit": limit}
        return Page(items, next_path=path, next_params=next_params)
    return Page(items)


def single_item(body: Any, path: str) -> dict[str, Any]:
    """The one object of a single-resource GET, whatever its wrapping.

    Flow Service wraps it (``{"items": [ {...} ]}``), Catalog keys it by id, Schema Registry and
    Data Prep answer it bare.
    """
    if isinstance(body, dict) and not any(key in body for key in ("items", "results")):
        bare = "id" in body or "$id" in body or not all(isinstance(v, dict) for v in body.values())
        if bare:
            return body
    items = read_page(body, path, None).items
    if not items:
        from airflow_provider_aep.exceptions import AEPNotFoundError

        raise AEPNotFoundError(404, title="AEP answered an empty list", method="GET", url=path)
    return items[0]


def _next_href(body: Mapping[str, Any]) -> str | None:
    links = body.get("_links")
    nxt = links.get("next") if isinstance(links, dict) else None
    href = nxt.get("href") if isinstance(nxt, dict) else nxt
    return href if isinstance(href, str) and href else None


def quote_value(value: object) -> str:
    """A filter value as AEP's ``property=`` language reads it.

    Plain values go as they are; a value with spaces, commas, quotes or operator characters is put
    in double quotes with ``"`` and ``\\`` escaped, so ``My flow, v2`` cannot turn into an OR.
    """
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if _NEEDS_QUOTES.search(text) or text == "":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def property_filter(name: str, value: object, op: str = "==") -> str:
    """One ``property=`` condition, e.g. ``property_filter("name", "My flow")`` -> ``name=="My flow"``.

    :param name: the (dotted) field, e.g. ``flowId`` or ``metrics.statusSummary.status``.
    :param value: the value; a list or tuple means any of them (AEP's comma = OR).
    :param op: ``==``, ``!=``, ``>``, ``<``, ``>=`` or ``<=``.
    """
    if op not in ("==", "!=", ">", "<", ">=", "<="):
        raise ValueError(f"unsupported property filter operator {op!r}")
    if not re.fullmatch(r"[A-Za-z_@$][\w.:@$\[\]-]*", name):
        raise ValueError(f"unsupported property name {name!r}")
    values = value if isinstance(value, list | tuple) else [value]
    return f"{name}{op}{','.join(quote_value(v) for v in values)}"
