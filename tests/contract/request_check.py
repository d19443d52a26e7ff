"""Check one recorded request (a line of ``AEP_EMULATOR_RECORD``) against Adobe's OpenAPI specs.

A request violates the contract when its path is in no spec, its method is not one the spec gives that
path, it sends a query parameter the operation does not declare (or a value outside the declared
``enum``), or its body does not fit the operation's request schema (see ``body_check``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.contract.body_check import body_problems
from tests.contract.openapi_operations import JSON_CONTENT, Operation, load_operations


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the contract.

    :param operation: ``METHOD template`` of the matched operation, or ``METHOD path`` when the path
        is in no spec.
    :param where: ``path``, ``method``, ``query`` or ``body``.
    :param field: the query parameter or body field (``params.deltaColumn``, ``[].op``); empty for
        ``path`` and ``method``.
    :param message: what is wrong.
    """

    operation: str
    where: str
    field: str
    message: str


def match_operation(method: str, path: str) -> tuple[Operation | None, list[Operation]]:
    """The operation serving ``method path`` (best literal match), and every operation on that path."""
    path = path.rstrip("/")
    on_path = [operation for operation in load_operations() if operation.pattern.fullmatch(path)]
    same_method = [operation for operation in on_path if operation.method == method]
    best = max(same_method, key=lambda operation: operation.literal_segments, default=None)
    return best, on_path


def check_request(record: dict[str, Any]) -> list[Violation]:
    """Every contract violation of one recorded request."""
    method, path = str(record["method"]).upper(), str(record["path"])
    operation, on_path = match_operation(method, path)
    if operation is None:
        if on_path:
            allowed = sorted({candidate.method for candidate in on_path})
            template = max(on_path, key=lambda candidate: candidate.literal_segments).template
            return [Violation(f"{method} {template}", "method", "", f"the spec allows only {allowed}")]
        return [Violation(f"{method} {path}", "path", "", "no spec has this path")]
    return _query_violations(operation, record) + _body_violations(operation, record)


def _query_violations(operation: Operation, record: dict[str, Any]) -> list[Violation]:
    violations: list[Violation] = []
    for name, value in record.get("query") or []:
        parameter = operation.query.get(name)
        if parameter is None:
            violations.append(Violation(operation.name, "query", name, "not a declared query parameter"))
            continue
        allowed = (parameter.get("schema") or parameter).get("enum")
        # A query value is text: a boolean enum (syncValidation: [true, false]) reads as "true"/"false".
        if allowed is not None and value not in [_query_text(option) for option in allowed]:
            violations.append(Violation(operation.name, "query", name, f"{value!r} is not one of {allowed}"))
    return violations


def _body_violations(operation: Operation, record: dict[str, Any]) -> list[Violation]:
    sent = bool(record.get("body_bytes")) or record.get("body") is not None
    if not sent:
        if operation.body_required:
            return [Violation(operation.name, "body", "", "the spec requires a body")]
        return []
    if not operation.bodies:
        return [Violation(operation.name, "body", "", "the spec declares no request body")]
    if not record.get("body_is_json"):
        return [Violation(operation.name, "body", "", "the body is not JSON")]
    content_type = str(record.get("content_type") or "").split(";")[0].strip().lower()
    pointer = operation.bodies.get(content_type) or operation.bodies.get(JSON_CONTENT)
    if pointer is None:
        pointer = next(iter(operation.bodies.values()))
    return [
        Violation(operation.name, "body", problem.field, problem.message)
        for problem in body_problems(operation.spec, pointer, record["body"])
    ]


def _query_text(option: Any) -> str:
    """How an ``enum`` value of a spec is written in a query string (``True`` -> ``true``)."""
    return json.dumps(option) if isinstance(option, bool) else str(option)
