"""The one allow-list of contract violations Adobe's own documents justify (``contract_allowlist.yaml``).

Each entry names the operation (``METHOD template``; a ``{NAME}`` segment matches any one segment),
where the deviation is (``path``, ``method``, ``query`` or ``body``), the query parameter or body field
(``params.deltaColumn``, ``[].op``; empty for ``path`` and ``method``; ``*`` for a body that is not
the spec's message at all, e.g. a source's own webhook JSON), and the Adobe document that shows AEP
taking the request this way.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.contract.openapi_operations import template_pattern
from tests.contract.request_check import Violation

ALLOWLIST = Path(__file__).resolve().parents[1] / "adobe" / "contract_allowlist.yaml"
WHERE = ("path", "method", "query", "body")
_KEYS = {"operation", "where", "field", "document", "why"}


@dataclass(frozen=True)
class AllowedDeviation:
    """One allow-list entry.

    :param operation: ``METHOD template``.
    :param where: ``path``, ``method``, ``query`` or ``body``.
    :param field: the query parameter or body field (empty for ``path`` and ``method``).
    :param document: the Adobe document that justifies it.
    :param why: one line on what the document shows.
    """

    operation: str
    where: str
    field: str
    document: str
    why: str

    @functools.cached_property
    def _operation(self) -> tuple[str, re.Pattern[str]]:
        method, _, template = self.operation.partition(" ")
        return method.upper(), template_pattern(template)

    def covers(self, violation: Violation) -> bool:
        """Whether this entry allows ``violation``."""
        method, pattern = self._operation
        violation_method, _, target = violation.operation.partition(" ")
        return (
            method == violation_method
            and pattern.fullmatch(target.rstrip("/")) is not None
            and self.where == violation.where
            and (self.field == violation.field or (self.where == "body" and self.field == "*"))
        )


def _entry(index: int, raw: Any) -> AllowedDeviation:
    if not isinstance(raw, dict) or set(raw) - _KEYS or not {"operation", "where", "document"} <= set(raw):
        raise ValueError(f"allow-list entry {index}: needs operation, where, field, document (and why)")
    entry = AllowedDeviation(
        operation=str(raw["operation"]),
        where=str(raw["where"]),
        field=str(raw.get("field") or ""),
        document=str(raw["document"]).strip(),
        why=str(raw.get("why") or ""),
    )
    if entry.where not in WHERE or not entry.document or " /" not in entry.operation:
        raise ValueError(f"allow-list entry {index} ({entry.operation}): bad where, operation or document")
    if entry.where == "query" and not entry.field:
        raise ValueError(f"allow-list entry {index} ({entry.operation}): a query entry names its parameter")
    return entry


def load_allowlist(path: Path = ALLOWLIST) -> list[AllowedDeviation]:
    """Every entry of the allow-list file, checked for the fields each entry must have."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of entries")
    return [_entry(index, item) for index, item in enumerate(raw)]


def split_allowed(
    violations: list[Violation], allowlist: list[AllowedDeviation]
) -> tuple[list[Violation], list[Violation]]:
    """``(not allowed, allowed)``."""
    covered = [any(entry.covers(violation) for entry in allowlist) for violation in violations]
    allowed = [violation for violation, ok in zip(violations, covered, strict=True) if ok]
    return [violation for violation, ok in zip(violations, covered, strict=True) if not ok], allowed
