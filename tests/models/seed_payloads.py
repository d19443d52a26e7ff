"""The example request bodies of the seed tutorials, read from the tutorials themselves.

Each ``curl ... -d '<json>'`` of a seed becomes one :class:`SeedRequest`, after fixing the
documentation slips listed in ``AEP_API_NOTES.md`` section 8 (and the non-breaking spaces that
seed 003 indents its JSON with). ``tests/models/payloads/`` holds faithful copies, so the tests
also run in a checkout without the shared seeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
PAYLOADS = Path(__file__).resolve().parent / "payloads"
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

# Seeds 001 and 002: a stray "}" after "format": "tabular",
_STRAY_BRACE = re.compile(r'"format": "tabular",\s*\}\s*\},')
_CURL = re.compile(r"curl -X (?P<method>[A-Z]+) \\\s*'(?P<url>[^']+)'(?P<rest>.*?)(?=curl -X |\Z)", re.S)
_BODY = re.compile(r"-d '(?P<body>.*?)'\s*$", re.S | re.M)
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
    """Every POST body of every seed, doc slips fixed, in seed order."""
    requests: list[SeedRequest] = []
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8").replace("\xa0", " ")
        seen: dict[str, int] = {}
        for curl in _CURL.finditer(text):
            body_match = _BODY.search(curl["rest"])
            if curl["method"] != "POST" or body_match is None:
                continue
            endpoint = curl["url"].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            body = json.loads(_STRAY_BRACE.sub('"format": "tabular"},', body_match["body"]))
            if endpoint == "targetConnections":
                # Seeds 001, 002 and 004 put the payments spec id where their text says data lake.
                body["connectionSpec"]["id"] = DATA_LAKE_SPEC_ID
            base = f"{seed.name[:3]}_{_ENDPOINT_NAMES[endpoint]}"
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base}_{seen[base]}"
            requests.append(SeedRequest(name=name, endpoint=endpoint, body=body))
    return requests


def read_payload_copies() -> dict[str, dict[str, Any]]:
    """The committed copies under payloads/, by name."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(PAYLOADS.glob("*.json"))
    }
