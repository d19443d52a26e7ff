"""Opt-in request recorder: one JSON line per Platform request, for checking clients against a contract.

Set ``AEP_EMULATOR_RECORD=/path/to/requests.jsonl`` before the emulator starts and every request to the
Platform services and streaming inlets is appended to that file as one JSON object: ``time`` (epoch
seconds it arrived), ``pid``, ``method``, ``path`` (as sent, percent-encoded), ``query``
(``[[name, value], ...]``), ``content_type``, ``user_agent``, ``body`` (the parsed JSON body, ``null``
without one), ``body_is_json`` and ``body_bytes``.

- IMS token requests and the ``/__emulator__/`` admin API are not recorded.
- No header is recorded but ``Content-Type`` and ``User-Agent`` (which client sent it), so no
  ``Authorization`` token is ever written; values of body fields whose name says they are secret
  (``clientSecret``, ``password``, ``accessToken``...) are replaced by ``"<redacted>"``.
- Each line is written with one ``write`` on a file opened in append mode (under an exclusive
  ``flock`` where the platform has it), so emulators in several processes can share one file.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND writes alone
    fcntl = None  # type: ignore[assignment]

RECORD_ENV = "AEP_EMULATOR_RECORD"
REDACTED = "<redacted>"
_NOT_RECORDED = ("/__emulator__", "/ims/")
_SECRET_NAME = re.compile(r"secret|password|passwd|token|private.?key|api.?key|credential", re.IGNORECASE)


def record_requests(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` with a :class:`RequestRecorder` when ``AEP_EMULATOR_RECORD`` names a file."""
    target = os.environ.get(RECORD_ENV, "").strip()
    return RequestRecorder(app, target) if target else app


def redact_secrets(value: Any) -> Any:
    """``value`` with every field whose name looks secret replaced by ``"<redacted>"``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_NAME.search(str(key)) else redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def append_line(path: str, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line to ``path``, safely across threads and processes."""
    try:
        text = json.dumps(record, separators=(",", ":"), default=str)
    except (ValueError, RecursionError):  # a body too deep to write back: keep the request, not the body
        text = json.dumps({**record, "body": None, "body_is_json": False}, default=str)
    line = (text + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line)
    finally:
        os.close(descriptor)  # closing releases the lock


class RequestRecorder:
    """ASGI middleware appending one line per recorded request to ``path`` once it was handled.

    :param app: the inner ASGI app.
    :param path: the JSON Lines file to append to.
    """

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_NOT_RECORDED):
            await self.app(scope, receive, send)
            return
        received_at = time.time()
        body, replay = await _read_body(receive)
        try:
            # ``send`` is passed on untouched: the fault layer closes the socket through it.
            await self.app(scope, replay, send)
        finally:
            append_line(self.path, _record(scope, body, received_at))


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a ``receive`` that hands it to the app unchanged."""
    chunks: list[bytes] = []
    first: Message = {"type": "http.request", "body": b"", "more_body": False}
    while True:
        message = await receive()
        if message["type"] != "http.request":
            first = message  # the client went away: pass that on
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if first["type"] == "http.request":
        first = {"type": "http.request", "body": body, "more_body": False}
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return body, replay


def _path_as_sent(scope: Scope) -> str:
    """The path still percent-encoded (a Schema Registry ``$id`` in a path keeps its ``%2F``)."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) and raw else str(scope["path"])


def _record(scope: Scope, body: bytes, received_at: float) -> dict[str, Any]:
    headers = dict(scope.get("headers", []))
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    parsed: Any = None
    is_json = False
    if body:
        try:
            parsed, is_json = redact_secrets(json.loads(body)), True
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
            parsed = None
    return {
        "time": received_at,
        "pid": os.getpid(),
        "method": scope["method"],
        "path": _path_as_sent(scope),
        "query": [[name, REDACTED if _SECRET_NAME.search(name) else value] for name, value in query],
        "content_type": headers.get(b"content-type", b"").decode("latin-1") or None,
        "user_agent": headers.get(b"user-agent", b"").decode("latin-1") or None,
        "body": parsed,
        "body_is_json": is_json,
        "body_bytes": len(body),
    }
