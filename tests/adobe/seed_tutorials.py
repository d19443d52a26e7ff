"""The seed tutorials' calls, read from the JSON fixtures in ``tutorials/`` (see its README).

Each fixture keeps a tutorial's ``curl`` calls as written, documentation slips included. They are
fixed here, in one visible place, and nowhere else (``AEP_API_NOTES.md`` section 8 lists them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TUTORIALS = Path(__file__).resolve().parent / "tutorials"
PLATFORM_HOST = "https://platform.adobe.io"
PAYMENTS_SPEC = "221c7626-58f6-4eec-8ee2-042b0226f03b"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

_STRAY_BRACE = re.compile(r'"format": "tabular",\s*}\s*},')


@dataclass(frozen=True)
class TutorialCall:
    """One request of a tutorial and the answer it shows.

    :param method: HTTP method.
    :param path: path (and query) below the Platform host, slips fixed.
    :param body: JSON body text, slips fixed, or ``None``.
    :param example: the example answer shown after the call, or ``None``.
    """

    method: str
    path: str
    body: str | None
    example: Any

    def json_body(self) -> Any:
        """The body parsed (``None`` without a body)."""
        return None if self.body is None else json.loads(self.body)


def tutorial_prefixes() -> list[str]:
    """The tutorials there are fixtures for (``000``, ``001``, ...)."""
    return sorted(path.stem for path in TUTORIALS.glob("*.json"))


def _fix_slips(path: str, body: str | None) -> tuple[str, str | None]:
    # 000: the mapping URL misses /conversion.
    if path == "/data/foundation/mappingSets":
        path = "/data/foundation/conversion/mappingSets"
    if body is not None:
        # 003: the translated page indents with non-breaking spaces, which JSON does not allow.
        body = body.replace("\u00a0", " ")
        # 001: a stray "}" after "format": "tabular",
        body = _STRAY_BRACE.sub('"format": "tabular"\n        },', body)
        # 001/004: the target connection names the payments spec where the text says data lake.
        if path.endswith("/targetConnections"):
            body = body.replace(PAYMENTS_SPEC, DATA_LAKE_SPEC)
    return path, body


def tutorial_calls(prefix: str) -> list[TutorialCall]:
    """Every ``curl`` call of tutorial ``prefix``, in order, with its example answer."""
    facts = json.loads((TUTORIALS / f"{prefix}.json").read_text(encoding="utf-8"))
    calls = []
    for call in facts["calls"]:
        path, body = _fix_slips(call["url"].removeprefix(PLATFORM_HOST), call["body"])
        calls.append(TutorialCall(call["method"], path, body, call["answer"]))
    return calls
