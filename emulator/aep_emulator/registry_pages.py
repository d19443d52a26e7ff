"""Schema Registry list paging, as help/xdm/api/appendix.md documents it (summary in
``adobe-docs/platform-api/xdm-api-appendix.md``).

* ``orderby=prop`` sorts ascending, ``orderby=-prop`` descending; lists are sorted by ``title`` when no
  ``orderby`` is sent (the ``_page.orderby`` Adobe's list examples show);
* ``limit`` is a hint between 0 and 500 and ``start`` a sort-key value; both need ``orderby``;
* a page holds the entries whose sort key is strictly after ``start``; ``_page.next`` is the ``start``
  of the next page, ``null`` on the last one. No default page size is documented: without ``limit``
  the whole (filtered) list is one page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aep_emulator.errors import xdm_bad_request, xdm_error
from aep_emulator.filters import apply_orderby, resolve
from aep_emulator.gateway import int_param

MAX_LIMIT = 500
DEFAULT_ORDERBY = "title"


def _sort_value(resource: Any, path: str) -> str:
    values = resolve(resource, path)
    return str(values[0]).lower() if values else ""


def registry_page(resources: list[Any], query: Mapping[str, str]) -> tuple[list[Any], dict[str, Any]]:
    """One page of a Schema Registry list and its ``_page`` object (``orderby``, ``next``, ``count``)."""
    orderby = query.get("orderby")
    if not orderby and ("limit" in query or "start" in query):
        raise xdm_error("1000-400", "Bad request", "limit and start can only be used with orderby")
    orderby = orderby or DEFAULT_ORDERBY
    limit = int_param(query, "limit", 0, 0, MAX_LIMIT, xdm_bad_request) or None  # 0: only a hint
    path = orderby.lstrip("+-")
    descending = orderby.startswith("-")
    ordered = apply_orderby(resources, orderby)
    start = query.get("start")
    if start is not None:
        after = start.lower()
        ordered = [
            item
            for item in ordered
            if (_sort_value(item, path) < after if descending else _sort_value(item, path) > after)
        ]
    page = ordered if limit is None else ordered[:limit]
    more = limit is not None and len(ordered) > limit
    next_start = _sort_value(page[-1], path) if more and page else None
    return page, {"orderby": orderby, "next": next_start, "count": len(page)}
