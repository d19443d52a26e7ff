"""What every Platform call goes through: the Adobe I/O gateway checks, body parsing, error rendering.

Services register plain functions ``handler(call) -> Response``; :func:`platform_endpoint` wraps them
into Starlette endpoints that authenticate like AEP's gateway, resolve the sandbox and turn
:class:`ApiError` into AEP's exact error bodies.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aep_emulator.errors import (
    ApiError,
    InvalidInput,
    flow_bad_request,
    flow_error,
    gateway_error,
    with_request_id,
)
from aep_emulator.state import Store

BODY_METHODS = ("POST", "PUT", "PATCH")
# How deeply a JSON body may nest. No Adobe document states a limit; this one only keeps a hostile
# body from exhausting the interpreter's recursion (which would be a 500) while accepting any real one.
MAX_BODY_DEPTH = 64


@dataclass
class Call:
    """One authenticated Platform request, as a handler sees it.

    :param request: the Starlette request.
    :param store: the emulator state.
    :param sandbox: the resolved, existing sandbox name.
    :param request_id: the ``x-request-id`` of this call.
    :param body: the parsed JSON body (``None`` when there is none).
    """

    request: Request
    store: Store
    sandbox: str
    request_id: str
    body: Any = None
    mutated: bool = field(default=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        """Query parameters in order, repeats kept."""
        return list(self.request.query_params.multi_items())

    def param(self, name: str) -> str:
        """A path parameter."""
        return str(self.request.path_params[name])

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        """The id -> resource table of ``kind`` in this call's sandbox."""
        return self.store.kind(self.sandbox, kind)

    @property
    def base_url(self) -> str:
        """Scheme, host and port the client used (for links such as a streaming inlet URL)."""
        return str(self.request.base_url).rstrip("/")

    def audit(self) -> dict[str, Any]:
        """The audit fields AEP stamps on a resource created by this call."""
        return self.store.audit(self.sandbox)


Handler = Callable[[Call], Response]


def request_id_of(request: Request) -> str:
    """The id the outer middleware gave this request."""
    state = request.scope.get("state") or {}
    return str(state.get("request_id", ""))


def error_response(error: ApiError, request_id: str) -> JSONResponse:
    """Render an :class:`ApiError` with the request id stamped into its report."""
    body = with_request_id(error, request_id).body
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def authenticate(request: Request, store: Store) -> None:
    """AEP gateway checks, in the gateway's order; raise the gateway's error on the first failure."""
    headers = request.headers
    authorization = headers.get("authorization", "")
    if not authorization.strip():
        raise gateway_error(403, "403010", "Oauth token is missing.")
    api_key = headers.get("x-api-key", "")
    if not api_key:
        raise gateway_error(403, "403000", "Api Key is required")
    scheme, _, token = authorization.partition(" ")
    expires_at = store.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
    if expires_at is None or expires_at <= store.now():
        raise gateway_error(401, "401013", "Oauth token is not valid")
    if api_key != store.settings.client_id:
        raise gateway_error(403, "403003", "Api Key is invalid")
    org = headers.get("x-gw-ims-org-id", "")
    if not org:
        raise gateway_error(400, "400003", "Organization ID is required")
    if org != store.settings.org_id:
        raise gateway_error(403, "403025", "Profile is not valid")


def resolve_sandbox(request: Request, store: Store) -> str:
    """The sandbox of the call: missing is ``2105-400``, unknown is ``2100-404`` (Flow Service codes)."""
    name = request.headers.get("x-sandbox-name", "").strip().lower()
    if not name:
        raise flow_error("2105-400", "Bad request", "Header x-sandbox-name is missing", "sandbox")
    if name not in store.sandboxes:
        raise flow_error("2100-404", "Sandbox not found", f"Sandbox {name} was not found", "sandbox")
    return name


async def read_json_body(request: Request, invalid: InvalidInput = flow_bad_request) -> Any:
    """Parse a JSON body; AEP requires ``Content-Type: application/json`` on every body.

    :param invalid: the service's own 400 for a body that is not JSON (bad bytes, bad syntax, nesting
        deeper than :data:`MAX_BODY_DEPTH`), so each service answers in its documented error shape.
    """
    raw = await request.body()
    if not raw.strip():
        return None
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        # help/landing/troubleshooting.md (summarised in adobe-docs/platform-api/troubleshooting.md):
        # a missing or invalid Content-Type on a body is a 400 problem-details BadRequestError.
        raise ApiError(
            400,
            {
                "type": "/placeholder/type/uri",
                "status": 400,
                "title": "BadRequestError",
                "detail": "A valid content-type must be specified",
            },
        )
    return parse_json(raw, invalid)


def parse_json(raw: bytes, invalid: InvalidInput) -> Any:
    """``raw`` as JSON (RFC 8259), or ``invalid(reason)``: bytes that are not UTF-8, bad syntax, absurd
    nesting, ``NaN``/``Infinity`` (not JSON), numbers too long to read or a lone surrogate (neither could
    be stored and shown again). No Adobe document lists these cases; a request AEP cannot read is a 400
    (help/landing/troubleshooting.md, summarised in ``adobe-docs/platform-api/troubleshooting.md``), in
    the service's own error shape."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(f"The body is not valid UTF-8 (byte {exc.start})") from exc
    if _nesting_depth(raw) > MAX_BODY_DEPTH:
        raise invalid(f"The JSON body nests deeper than {MAX_BODY_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise invalid(f"Malformed JSON body: {exc.msg} at position {exc.pos}") from exc
    except (ValueError, UnicodeEncodeError) as exc:
        raise invalid(f"Malformed JSON body: {exc}") from exc
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number} is too large")
    return value


# Every byte but a quote or a bracket; a string (unterminated at the end of the text too) once its
# escaped backslashes and quotes are gone; how each bracket moves the depth.
_NOT_QUOTE_OR_BRACKET = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_QUOTED = re.compile(rb'"[^"]*"?')
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _nesting_depth(raw: bytes) -> int:
    """The deepest ``[``/``{`` nesting of a UTF-8 JSON text (brackets inside strings are ignored).

    Escaped backslashes, then escaped quotes, are cut out, so every quote left opens or closes a
    string; only quotes and brackets are kept (``bytes.translate``); two quotes side by side enclose
    no bracket outside a string, so they go; strings left (holding brackets) are cut out. What remains
    is the brackets outside strings, summed in C (``accumulate``): a 1 MB streaming batch takes about
    1.3 ms (character by character it took 60 ms; with a regular expression over every string, 11 ms).
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(None, _NOT_QUOTE_OR_BRACKET).replace(b'""', b"")
    return max(accumulate(map(_DEPTH_STEP.__getitem__, _QUOTED.sub(b"", marks))), default=0)


def platform_endpoint(
    store: Store, handler: Handler, *, invalid: InvalidInput = flow_bad_request, creates: bool = False
) -> Callable[[Request], Any]:
    """Wrap a service handler with the gateway checks, JSON parsing, error rendering and persistence.

    :param invalid: the service's 400 for an unreadable body (its documented error shape).
    :param creates: this route creates a resource: it first waits ``create_latency_seconds`` (runtime
        config) without blocking the server, as a real create takes a while before the resource is
        stored; concurrent look-ups and creates of the same name can then miss each other, as on AEP.
    """

    async def endpoint(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            authenticate(request, store)
            sandbox = resolve_sandbox(request, store)
            body = await read_json_body(request, invalid) if request.method in BODY_METHODS else None
            call = Call(request=request, store=store, sandbox=sandbox, request_id=request_id, body=body)
            if creates and store.config.create_latency_seconds > 0:
                await asyncio.sleep(store.config.create_latency_seconds)
            response = handler(call)
        except ApiError as error:
            return error_response(error, request_id)
        if request.method != "GET" or call.mutated:
            store.save()
        return response

    return endpoint


class RouteMaker(Protocol):
    """Builds one gateway-wrapped route of a service (see :func:`platform_routes`)."""

    def __call__(self, path: str, handler: Handler, method: str, *, creates: bool = False) -> Route: ...


def platform_routes(store: Store, prefix: str, invalid: InvalidInput = flow_bad_request) -> RouteMaker:
    """A route maker for one service: ``route("/dataSets", handler, "POST", creates=True)``.

    :param prefix: the service's path under the gateway, e.g. ``/data/foundation/catalog``.
    :param invalid: the service's 400 for an unreadable body.
    """

    def route(path: str, handler: Handler, method: str, *, creates: bool = False) -> Route:
        endpoint = platform_endpoint(store, handler, invalid=invalid, creates=creates)
        return Route(prefix + path, endpoint, methods=[method])

    return route


def int_param(
    query: Mapping[str, str], name: str, default: int, low: int, high: int | None, invalid: InvalidInput
) -> int:
    """An integer query parameter in ``[low, high]`` (``default`` when absent); otherwise the service's
    own 400 naming the valid range."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value: int | None = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        valid = f"from {low} to {high}" if high is not None else f"from {low} up"
        raise invalid(f"Invalid {name} {raw!r}: {name} must be an integer {valid}")
    return value


def json_response(body: Any, status: int = 200) -> JSONResponse:
    """A JSON answer."""
    return JSONResponse(body, status_code=status)


def require_object(body: Any, kind: str) -> dict[str, Any]:
    """The body as a JSON object, or a Flow Service 400."""
    if not isinstance(body, dict):
        raise flow_error("1400-400", "Bad request", "The request body must be a JSON object", kind)
    return body
