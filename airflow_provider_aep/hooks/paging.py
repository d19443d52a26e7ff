"""Reading AEP list answers and building their ``property=`` filters (no I/O here).

A list is paged by what the server answers, never by an assumed page size; each service documents its
own continuation:

* Flow Service: ``{"items": [...], "_links": {"next": {"href": "/flows?continuationToken=..."}}}``,
  the last page having ``"_links": {}``;
* Schema Registry: ``{"results": [...], "_page": {"orderby", "next", "count"}, "_links": {...}}``:
  the next page is the same request with ``start=<_page.next>`` (and its ``orderby``), none when
  ``_page.next`` is null (help/xdm/api/appendix.md);
* Catalog: an object keyed by id (``{"<id>": {...}, ...}``) and Data Prep ``{"data": [...]}``: ``start``
  is an offset. Catalog caps a page below the ``limit`` asked for (20 with no ``limit``, 20 for
  ``observableSchema``; help/catalog/api/filter-data.md), so a short page proves nothing: the next page
  starts after the objects received, and the list ends with an empty page.

A ``_links.next.href``, when a service sends one, always wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

_NEEDS_QUOTES = re.compile(r'[\s,=!<>"\\&]')
# Keys under which a service answers the objects of a list (anything else is a Catalog keyed object).
_LIST_KEYS = ("items", "results", "children", "data")


#: Query parameters as ``(name, value)`` pairs: ``property`` filters repeat (they are ANDed).
Query: TypeAlias = list[tuple[str, Any]]


@dataclass(frozen=True)
class Page:
    """One page of a list: its objects, and where the next page is (``None`` on the last)."""

    items: list[dict[str, Any]]
    next_path: str | None = None
    next_params: Query | None = None


def query_pairs(params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> Query:
    """Query parameters as pairs, a list value giving one pair per element (as httpx sends it)."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs: Query = []
    for name, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, one) for one in values)
    return pairs


def _replaced(pairs: Query, **changes: Any) -> Query:
    """``pairs`` with each changed name set to its new value (once), the other pairs kept in order."""
    return [(name, value) for name, value in pairs if name not in changes] + list(changes.items())


def read_page(body: Any, path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> Page:
    """Split one list answer into its objects and the request for the next page.

    :param body: the parsed answer.
    :param path: the path that was requested (the next page of an offset list asks it again).
    :param params: the query parameters that were sent.
    """
    pairs = query_pairs(params)
    if isinstance(body, list):
        return Page([item for item in body if isinstance(item, dict)])
    if not isinstance(body, dict):
        return Page([])
    key = next((key for key in _LIST_KEYS if isinstance(body.get(key), list)), None)
    if key is None:
        # Catalog: an object keyed by id; the id is not repeated inside every object, so add it.
        items = [
            {"id": key, **value}
            for key, value in body.items()
            if isinstance(value, dict) and not key.startswith("_")
        ]
    else:
        items = [item for item in body[key] if isinstance(item, dict)]
    href = _next_href(body)
    if href is not None:
        return Page(items, next_path=href)
    page_info = body.get("_page")
    if key == "results" or (isinstance(page_info, dict) and "next" in page_info):
        return Page(items, *_next_by_start_key(page_info, path, pairs))
    if key in (None, "data") and items:
        return Page(items, next_path=path, next_params=_replaced(pairs, start=_offset(pairs) + len(items)))
    return Page(items)


def _next_by_start_key(page_info: Any, path: str, pairs: Query) -> tuple[str | None, Query | None]:
    """Schema Registry: the next page starts after ``_page.next`` in the same ``orderby``."""
    next_start = page_info.get("next") if isinstance(page_info, dict) else None
    if next_start is None or next_start == "":
        return None, None
    orderby = dict(pairs).get("orderby") or page_info.get("orderby")
    return path, _replaced(pairs, start=next_start, **({"orderby": orderby} if orderby else {}))


def _offset(pairs: Query) -> int:
    try:
        return max(0, int(dict(pairs).get("start", 0)))
    except (TypeError, ValueError):
        return 0


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
