"""The outermost ASGI layer: request ids, the request log and injected faults.

It wraps everything except the ``/__emulator__/`` admin API, so faults hit IMS, the Platform gateway and
streaming inlets exactly as a flaky network or an overloaded Adobe service would.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/__emulator__"
# A long-lived ``serve`` must not grow without bound; tests reset far more often than this.
MAX_LOGGED_REQUESTS = 100_000


@dataclass
class FaultRule:
    """One injected fault.

    :param path: path prefix, or a regular expression when it starts with ``^``.
    :param method: HTTP method to match (any when empty).
    :param status: status to answer with (``None``: answer normally, after ``delay_ms``).
    :param times: how many matching requests it hits.
    :param retry_after: ``Retry-After`` header value in seconds.
    :param delay_ms: wait this long before answering.
    :param drop_connection: close the socket without any answer.
    :param after_commit: apply the request for real, then answer with the fault (a lost response).
    :param body: JSON body of the fault answer (a default AEP-style body otherwise).
    :param location: ``Location`` header of the fault answer, for a redirect (``status`` 3xx).
    """

    path: str
    method: str = ""
    status: int | None = None
    times: int = 1
    retry_after: int | None = None
    delay_ms: int = 0
    drop_connection: bool = False
    after_commit: bool = False
    body: Any = None
    location: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaultRule:
        """Build a rule from the admin API's JSON, validating types."""
        if not isinstance(raw, dict) or not isinstance(raw.get("path", ""), str):
            raise ValueError("each rule must be an object with a string 'path'")
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        rule = cls(**{"path": "", **raw})
        rule.method = rule.method.upper()
        rule.times = int(rule.times)
        rule.delay_ms = int(rule.delay_ms or 0)
        if rule.path.startswith("^"):
            re.compile(rule.path)
        return rule

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request."""
        if self.times <= 0 or (self.method and self.method != method):
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return path.startswith(self.path)

    def as_json(self) -> dict[str, Any]:
        """The rule as the admin API shows it."""
        return dict(self.__dict__)


def default_fault_body(status: int) -> Any:
    """An AEP-looking body for a fault with no explicit body."""
    if status == 429:
        return {"error_code": "429001", "message": "Too many requests"}
    if status in (401, 403):
        return {"error_code": f"{status}013", "message": "Injected gateway fault"}
    return {
        "type": f"https://ns.adobe.com/aep/errors/FLOW-1100-{status}",
        "title": "Injected fault",
        "status": status,
        "report": {"detailed-message": "Fault injected by the AEP emulator", "type": "fault"},
    }


class FaultAndLogMiddleware:
    """Request ids, request log and fault injection around the emulated services.

    :param app: the inner ASGI app.
    :param runtime: object with ``faults: list[FaultRule]``, ``request_log: list[dict]`` and ``store``.
    """

    def __init__(self, app: ASGIApp, runtime: Any) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        seen: dict[str, int] = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        started = time.perf_counter()
        entry = self._log_entry(scope, request_id)
        rule = self._take_rule(scope["method"], scope["path"])
        try:
            if rule is None:
                await self.app(scope, receive, send_with_id)
            else:
                entry["fault"] = True
                await self._apply(rule, scope, receive, send, send_with_id, seen)
        finally:
            entry["status"] = seen["status"] or None
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            log: list[dict[str, Any]] = self.runtime.request_log
            log.append(entry)
            if len(log) > MAX_LOGGED_REQUESTS:
                del log[: len(log) - MAX_LOGGED_REQUESTS]

    def _log_entry(self, scope: Scope, request_id: str) -> dict[str, Any]:
        headers = dict(scope.get("headers", []))
        sandbox = headers.get(b"x-sandbox-name", b"").decode("latin-1").strip().lower() or None
        return {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": None,
            "time": self.runtime.store.now(),
            "sandbox": sandbox,
            "user_agent": headers.get(b"user-agent", b"").decode("latin-1") or None,
            "request_id": request_id,
        }

    def _take_rule(self, method: str, path: str) -> FaultRule | None:
        rules: list[FaultRule] = self.runtime.faults
        for rule in rules:
            if rule.matches(method, path):
                rule.times -= 1
                return rule
        return None

    async def _apply(
        self,
        rule: FaultRule,
        scope: Scope,
        receive: Receive,
        send: Send,
        send_with_id: Send,
        seen: dict[str, int],
    ) -> None:
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        captured: list[Message] = []
        if rule.after_commit:

            async def capture(message: Message) -> None:
                captured.append(message)

            await self.app(scope, receive, capture)
        if rule.drop_connection:
            await _drop(send)
            return
        if rule.status is None:
            if rule.after_commit:
                for message in captured:
                    await send_with_id(message)
            else:
                await self.app(scope, receive, send_with_id)
            return
        body = rule.body if rule.body is not None else default_fault_body(rule.status)
        headers = [(b"content-type", b"application/json")]
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(rule.retry_after).encode()))
        if rule.location is not None:
            headers.append((b"location", rule.location.encode()))
        await send_with_id({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send_with_id({"type": "http.response.body", "body": json.dumps(body).encode()})
        seen["status"] = rule.status


async def _drop(send: Send) -> None:
    """Close the client's socket with no answer at all.

    ASGI has no verb for this; uvicorn's ``send`` is a bound method of the request cycle that owns
    the transport, which is the one handle that lets a test see a real dropped connection.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("drop_connection fault: no transport to close")
    transport.close()
    # Let uvicorn notice the closed connection so it does not try to answer 500 on it.
    await asyncio.sleep(0.01)
