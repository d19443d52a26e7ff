"""The request bodies of the five tutorials, read from ``shared/seeds/`` (doc slips fixed here).

``seed_bodies("001")`` returns ``{"POST /sourceConnections": {...}, ...}``: each ``curl -d`` body of
the tutorial keyed by method and the path below its service. ``seed_json_blocks`` returns the JSON
examples (answers, sample events).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
PAYMENTS_SPEC = "221c7626-58f6-4eec-8ee2-042b0226f03b"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

_SHELL = re.compile(r"```shell\n(.*?)```", re.DOTALL)
_JSON = re.compile(r"```json\n(.*?)```", re.DOTALL)
_CURL = re.compile(
    r"curl -X (?P<method>[A-Z]+) \\?\s*'https://platform\.adobe\.io/data/foundation/(?P<path>[^'?]+)"
)
_BODY = re.compile(r"-d '(?P<body>.*)'\s*$", re.DOTALL)
_SERVICES = ("flowservice/", "catalog/", "schemaregistry/", "conversion/")


def _text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8").replace("\u00a0", " ")


def _fix(path: str, body: str) -> str:
    # 001/002: a stray "}" after "format": "tabular",
    body = re.sub(r'"format": "tabular",\s*}\s*},', '"format": "tabular"\n        },', body)
    # 001/002/004: the target connection names the payments spec where the text says data lake.
    if path.endswith("targetConnections"):
        body = body.replace(PAYMENTS_SPEC, DATA_LAKE_SPEC)
    return body


def seed_bodies(prefix: str) -> dict[str, Any]:
    """Every request body of a seed, keyed ``"<METHOD> /<collection>"`` (later duplicates get ``#2``)."""
    bodies: dict[str, Any] = {}
    for block in _SHELL.findall(_text(prefix)):
        curl, body = _CURL.search(block), _BODY.search(block)
        if curl is None or body is None:
            continue
        path = curl["path"]
        for service in _SERVICES:
            path = path.removeprefix(service)
        key = f"{curl['method']} /{path}"
        while key in bodies:
            key += "#2"
        bodies[key] = json.loads(_fix(path, body["body"]))
    return bodies


def seed_json_blocks(prefix: str) -> list[Any]:
    """Every JSON example block of a seed, in order."""
    return [json.loads(block) for block in _JSON.findall(_text(prefix))]


def assert_subset(expected: Any, actual: Any, where: str = "") -> None:
    """Every field of ``expected`` (``None`` fields skipped) is in ``actual`` with the same value.

    Numbers and numeric strings compare equal (the tutorials write ``"30"`` where AEP keeps ``30``).
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if value is None:
                continue
            assert key in actual, f"{where}.{key}: missing from {sorted(actual)}"
            assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        assert len(expected) == len(actual), f"{where}: {len(actual)} items, expected {len(expected)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            assert_subset(want, got, f"{where}[{index}]")
    elif isinstance(expected, (int, str)) and not isinstance(expected, bool) and str(expected).isdigit():
        assert str(actual) == str(expected), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
