"""The example request bodies of the seed tutorials, from the fixtures in ``tests/adobe/tutorials/``.

Each POST body of a tutorial becomes one :class:`SeedRequest` (doc slips fixed in
``tests.adobe.seed_tutorials``). ``tests/models/payloads/`` holds the bodies the model tests use, one
file per request; a test checks they equal the tutorials'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.adobe.seed_tutorials import tutorial_calls, tutorial_prefixes

PAYLOADS = Path(__file__).resolve().parent / "payloads"
_ENDPOINT_NAMES = {
    "connections": "base_connection",
    "sourceConnections": "source_connection",
    "targetConnections": "target_connection",
    "mappingSets": "mapping_set",
    "flows": "dataflow",
    "schemas": "tenant_schema",
    "dataSets": "dataset",
}


@dataclass(frozen=True)
class SeedRequest:
    """One example request body of a seed tutorial."""

    name: str  # file name under payloads/, e.g. "001_dataflow"
    endpoint: str  # last URL segment without query, e.g. "flows"
    body: dict[str, Any]


def read_seed_requests() -> list[SeedRequest]:
    """Every POST body of every tutorial, doc slips fixed, in tutorial order."""
    requests: list[SeedRequest] = []
    for prefix in tutorial_prefixes():
        seen: dict[str, int] = {}
        for call in tutorial_calls(prefix):
            if call.method != "POST" or call.body is None:
                continue
            endpoint = call.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            base = f"{prefix}_{_ENDPOINT_NAMES[endpoint]}"
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base}_{seen[base]}"
            requests.append(SeedRequest(name=name, endpoint=endpoint, body=call.json_body()))
    return requests


def read_payload_copies() -> dict[str, dict[str, Any]]:
    """The committed copies under payloads/, by name."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(PAYLOADS.glob("*.json"))
    }
