"""Read the tutorials' requests and example answers straight from ``shared/seeds/``.

Each ``curl`` block becomes a :class:`SeedCall` (method, path, JSON body) paired with the JSON example
answer that follows it. The doc slips listed in ``AEP_API_NOTES.md`` section 8 are fixed here, in one
visible place, and nowhere else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEEDS = SHARED / "seeds"
PAYMENTS_SPEC = "221c7626-58f6-4eec-8ee2-042b0226f03b"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
_CURL = re.compile(r"curl -X (?P<method>[A-Z]+) \\?\s*'(?P<url>[^']+)'")
_DATA = re.compile(r"-d '(?P<body>.*)'\s*$", re.DOTALL)


@dataclass
class SeedCall:
    """One request of a tutorial and the answer it shows.

    :param method: HTTP method.
    :param path: path below the Platform host (slips fixed).
    :param body: JSON body text, or ``None``.
    :param example: the example answer shown after it, when it is JSON.
    """

    method: str
    path: str
    body: str | None
    example: Any


def seed_file(prefix: str) -> Path:
    """The seed whose file name starts with ``prefix`` (e.g. ``001``)."""
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def _fix_slips(path: str, body: str | None) -> tuple[str, str | None]:
    # 000: the mapping URL misses /conversion.
    if path == "/data/foundation/mappingSets":
        path = "/data/foundation/conversion/mappingSets"
    if body is not None:
        # 003: the translated page indents with non-breaking spaces, which JSON does not allow.
        body = body.replace("\u00a0", " ")
        # 001/002: a stray "}" after "format": "tabular",
        body = re.sub(r'"format": "tabular",\s*}\s*},', '"format": "tabular"\n        },', body)
        # 001/002/004: the target connection names the payments spec where the text says data lake.
        if path.endswith("/targetConnections"):
            body = body.replace(PAYMENTS_SPEC, DATA_LAKE_SPEC)
    return path, body


def seed_calls(prefix: str) -> list[SeedCall]:
    """Every ``curl`` call of a seed, in order, with its example answer."""
    text = seed_file(prefix).read_text(encoding="utf-8")
    blocks = [(match.group(1), match.group(2)) for match in _BLOCK.finditer(text)]
    calls: list[SeedCall] = []
    for index, (language, content) in enumerate(blocks):
        curl = _CURL.search(content) if language == "shell" else None
        if curl is None:
            continue
        url = curl.group("url")
        path = re.sub(r"^https://platform\.adobe\.io", "", url)
        data = _DATA.search(content)
        body = data.group("body") if data else None
        path, body = _fix_slips(path, body)
        example = None
        if index + 1 < len(blocks) and blocks[index + 1][0] == "json":
            try:
                example = json.loads(blocks[index + 1][1])
            except json.JSONDecodeError:
                example = None
        calls.append(SeedCall(curl.group("method"), path, body, example))
    return calls
