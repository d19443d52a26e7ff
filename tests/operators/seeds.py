"""The request bodies of the tutorials, from the fixtures in ``tests/adobe/tutorials/``.

``seed_bodies("001")`` returns ``{"POST /sourceConnections": {...}, ...}``: each ``curl -d`` body of
the tutorial keyed by method and the path below its service (doc slips fixed in
``tests.adobe.seed_tutorials``). ``seed_json_blocks`` returns the JSON examples (answers, sample events).
"""

from __future__ import annotations

from typing import Any

from tests.adobe.seed_tutorials import tutorial_calls

_SERVICES = ("flowservice/", "catalog/", "schemaregistry/", "conversion/")


def seed_bodies(prefix: str) -> dict[str, Any]:
    """Every request body of a seed, keyed ``"<METHOD> /<collection>"`` (later duplicates get ``#2``)."""
    bodies: dict[str, Any] = {}
    for call in tutorial_calls(prefix):
        if call.body is None:
            continue
        path = call.path.split("?", 1)[0].removeprefix("/data/foundation/")
        for service in _SERVICES:
            path = path.removeprefix(service)
        key = f"{call.method} /{path}"
        while key in bodies:
            key += "#2"
        bodies[key] = call.json_body()
    return bodies


def seed_json_blocks(prefix: str) -> list[Any]:
    """Every JSON example block of a seed, in order (each is the answer shown after a call)."""
    return [call.example for call in tutorial_calls(prefix) if call.example is not None]


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
