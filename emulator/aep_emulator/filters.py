"""Flow Service list semantics: ``property=`` filters, ``orderby``, paging and ``count``.

Filter language (AEP's): each ``property`` parameter is one condition and repeated parameters are ANDed;
inside one parameter, commas separate alternatives that are ORed (``id==a,b`` or ``state==x,name==y``).
Operators ``==``, ``!=``, ``>``, ``<``, ``>=``, ``<=``; a bare path tests existence and ``!path`` absence.
Paths are dotted and walk into arrays (``inheritedAttributes.sourceConnections[].id``). String
comparisons ignore case, because Adobe's own examples mix ``failed`` and ``Failed``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aep_emulator.errors import ApiError, flow_error

_CLAUSE = re.compile(r"^\s*(?P<path>!?[A-Za-z0-9_.$:@\[\]-]+)\s*(?:(?P<op>==|!=|>=|<=|>|<)(?P<value>.*))?$")


@dataclass(frozen=True)
class Clause:
    """One comparison: ``path op value`` (``op`` ``exists``/``absent`` when there is no value).

    :param path: dotted path into the resource.
    :param op: comparison operator.
    :param value: right-hand side, unquoted.
    """

    path: str
    op: str
    value: str


def parse_property(expression: str) -> list[Clause]:
    """Parse one ``property`` parameter into ORed clauses; raise a Flow Service 400 when malformed."""
    clauses: list[Clause] = []
    for part in _split_commas(expression):
        has_operator = any(op in part for op in ("==", "!=", ">", "<"))
        comparing = bool(clauses) and clauses[-1].op not in ("exists", "absent")
        if not has_operator and comparing:
            # ``id==a,b``: a bare value after a comparison is another accepted value.
            clauses.append(Clause(clauses[-1].path, clauses[-1].op, _unquote(part)))
            continue
        match = _CLAUSE.match(part)
        if match is None:
            raise flow_error("1400-400", "Bad request", f"Invalid property filter: {expression}")
        path, op = match.group("path"), match.group("op")
        if op is not None:
            clauses.append(Clause(path, op, _unquote(match.group("value") or "")))
        elif path.startswith("!"):
            clauses.append(Clause(path[1:], "absent", ""))
        else:
            clauses.append(Clause(path, "exists", ""))
    return clauses


def _split_commas(expression: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in expression:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def resolve(resource: Any, path: str) -> list[Any]:
    """Every value found at ``path``, walking into arrays; empty when the path does not exist."""
    values: list[Any] = [resource]
    for raw_segment in path.split("."):
        segment = raw_segment.removesuffix("[]")
        next_values: list[Any] = []
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and segment in item:
                    next_values.append(item[segment])
        values = next_values
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(actual: Any, op: str, expected: str) -> bool:
    if op in (">", "<", ">=", "<="):
        left, right = _as_number(actual), _as_number(expected)
        if left is None or right is None:
            return False
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    if isinstance(actual, bool):
        equal = str(actual).lower() == expected.lower()
    elif isinstance(actual, (int, float)):
        number = _as_number(expected)
        equal = number is not None and float(actual) == number
    else:
        equal = str(actual).lower() == expected.lower()
    return equal if op == "==" else not equal


def clause_matches(resource: Any, clause: Clause) -> bool:
    """Whether one clause holds for a resource."""
    values = resolve(resource, clause.path)
    if clause.op == "exists":
        return bool(values)
    if clause.op == "absent":
        return not values
    if clause.op == "!=":
        return all(_compare(value, "!=", clause.value) for value in values)
    return any(_compare(value, clause.op, clause.value) for value in values)


def apply_filters(resources: Iterable[Any], properties: Sequence[str]) -> list[Any]:
    """Keep the resources that satisfy every ``property`` parameter (AND of ORs)."""
    parsed = [parse_property(expression) for expression in properties]
    return [
        resource
        for resource in resources
        if all(any(clause_matches(resource, clause) for clause in group) for group in parsed)
    ]


def _sort_key(resource: Any, path: str) -> tuple[int, Any]:
    values = resolve(resource, path)
    if not values:
        return (2, "")
    value = values[0]
    number = _as_number(value) if not isinstance(value, str) else None
    return (0, number) if number is not None else (1, str(value).lower())


def apply_orderby(resources: list[Any], orderby: str | None) -> list[Any]:
    """Sort by one field, ``-field`` for descending; a missing field sorts last."""
    if not orderby:
        return resources
    descending = orderby.startswith("-")
    path = orderby.lstrip("+-")
    present = [resource for resource in resources if resolve(resource, path)]
    missing = [resource for resource in resources if not resolve(resource, path)]
    return sorted(present, key=lambda resource: _sort_key(resource, path), reverse=descending) + missing


def encode_token(offset: int) -> str:
    """Opaque continuation token for a page offset."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    """Offset from a continuation token; a bad token is a Flow Service 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith("offset:"):
            raise ValueError(text)
        return max(0, int(text.removeprefix("offset:")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise flow_error("1400-400", "Bad request", f"Invalid continuationToken: {token}") from exc


def paginate_flow_list(resources: list[Any], query: Sequence[tuple[str, str]], path: str) -> dict[str, Any]:
    """A whole Flow Service list answer: filter, order, ``count`` or one page with ``_links``.

    :param resources: every resource of the kind (in creation order).
    :param query: the request's query parameters, in order, repeats kept.
    :param path: the list path relative to the service root, e.g. ``/flows`` (used in ``_links``).
    """
    properties = [value for key, value in query if key == "property"]
    params = dict(query)
    count = params.get("count", "").lower() == "true"
    if count and "limit" in params:
        raise flow_error("1401-400", "Bad request", "limit cannot be combined with count=true")
    selected = apply_orderby(apply_filters(resources, properties), params.get("orderby"))
    if count:
        return {"count": len(selected)}
    limit = _parse_limit(params.get("limit"))
    offset = decode_token(params["continuationToken"]) if params.get("continuationToken") else 0
    page = selected[offset:] if limit is None else selected[offset : offset + limit]
    links: dict[str, Any] = {}
    if limit is not None and offset + limit < len(selected):
        kept = [(key, value) for key, value in query if key != "continuationToken"]
        kept.append(("continuationToken", encode_token(offset + limit)))
        links["next"] = {"href": f"{path}?{urlencode(kept)}"}
    return {"items": page, "_links": links}


def _parse_limit(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        limit = int(raw)
    except ValueError as exc:
        raise flow_error("1400-400", "Bad request", f"Invalid limit: {raw}") from exc
    if limit < 1:
        raise flow_error("1400-400", "Bad request", f"Invalid limit: {raw}")
    return limit


__all__ = ["ApiError", "Clause", "apply_filters", "apply_orderby", "paginate_flow_list", "parse_property"]
