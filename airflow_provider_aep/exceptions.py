"""Typed errors raised by the AEP hooks, operators and sensors.

Every HTTP error from Adobe Experience Platform becomes an :class:`AEPApiError` (or one of its
subclasses) that carries what AEP said: the HTTP status, the AEP error code (``FLOW-1439-404``,
``XDM-1521-400``, gateway ``401013``...), the title, the detail or report, and the request id.
The message is one readable line and never contains a token or a secret.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk.exceptions import AirflowException

_CODE_IN_TYPE = re.compile(r"/errors/([A-Za-z]+-[0-9]+-[0-9]+)$")
_MAX_DETAIL = 300


class AEPError(AirflowException):
    """Base class of every error raised by this provider."""


class AEPConfigError(AEPError, ValueError):
    """The Airflow connection or an operator argument is unusable (raised before any HTTP call)."""


class AEPApiError(AEPError):
    """AEP answered with an HTTP error.

    :param status: HTTP status code.
    :param code: AEP error code, e.g. ``FLOW-1439-404``, ``XDM-1521-400`` or gateway ``401013``.
    :param title: short title of the error.
    :param detail: longer explanation (``detail``, ``report.detailed-message`` or ``message``).
    :param request_id: the ``x-request-id`` of the failed call, to quote to Adobe support.
    :param method: HTTP method of the failed call.
    :param url: URL path of the failed call (no query string, no credentials).
    :param body: the parsed error body, as AEP sent it.

    ``retry_after`` holds the answer's ``Retry-After`` header (``None`` when there was none).
    """

    retry_after: str | None = None

    def __init__(
        self,
        status: int,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.method = method
        self.url = url
        self.body = body
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        code = f" {self.code}" if self.code else ""
        text = self.title or ""
        if self.detail and self.detail != self.title:
            text = f"{text}: {self.detail}" if text else self.detail
        if len(text) > _MAX_DETAIL:
            text = text[: _MAX_DETAIL - 3] + "..."
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}AEP answered {self.status}{code}" + (f" - {text}" if text else "") + rid

    @classmethod
    def from_response(
        cls,
        status: int,
        body_text: str,
        *,
        method: str | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> AEPApiError:
        """Build the right subclass from an HTTP error answer.

        Understands the Flow Service body (``type``/``title``/``status``/``report``), the Schema
        Registry body (same, plus ``detail``), the gateway body (``error_code``/``message``), the IMS
        body (``error``/``error_description``) and plain text.
        """
        try:
            body: Any = json.loads(body_text) if body_text else None
        except ValueError:
            body = body_text
        code, title, detail, request_id = _parse_error_body(body)
        if headers:
            request_id = request_id or headers.get("x-request-id")
        if 300 <= status < 400:
            return AEPRedirectError(
                status,
                location=(headers or {}).get("location"),
                code=code,
                title=title,
                request_id=request_id,
                method=method,
                url=url,
                body=body,
            )
        error_class = _class_for(status, code)
        error = error_class(
            status=status,
            code=code,
            title=title,
            detail=detail,
            request_id=request_id,
            method=method,
            url=url,
            body=body,
        )
        # what AEP asked for before a new try (seconds or an HTTP date), for waits that outlive the hook
        error.retry_after = (headers or {}).get("retry-after")
        return error


class AEPRedirectError(AEPApiError):
    """AEP answered a redirect (3xx). Redirects are never followed (the token must not travel to
    another URL) and are never a success: a redirected ``DELETE`` deleted nothing, a redirected
    list listed nothing.

    :param location: the ``Location`` AEP redirected to, without its query string (it may carry a
        signature) or any ``user:password@``; ``?...`` marks an omitted query.
    """

    def __init__(self, status: int, location: str | None = None, **fields: Any) -> None:
        self.location = _without_query(location) if location else None
        super().__init__(status, **fields)

    def _one_line(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        target = self.location or "no Location header"
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}AEP answered {self.status} redirecting to {target}; redirects are not followed{rid}"


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never a user:password@ part
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return f"{shown}?..." if parts.query else shown


class AEPBadRequestError(AEPApiError):
    """AEP rejected the request as invalid (400, 422)."""


class AEPAuthError(AEPApiError):
    """Authentication or authorization failed (401, 403, IMS errors)."""


class AEPNotFoundError(AEPApiError):
    """The resource does not exist (404)."""


class AEPConflictError(AEPApiError):
    """The resource changed or already exists (409, 412 stale ``If-Match`` etag)."""


class AEPRateLimitError(AEPApiError):
    """Too many requests (429) and the retries were used up."""


class AEPServerError(AEPApiError):
    """AEP failed on its side (5xx) and the retries were used up."""


class AEPTransportError(AEPError):
    """The request never got an HTTP answer (connection refused, reset, timed out)."""


class AEPFlowRunFailedError(AEPError):
    """A flow run ended in a state that is not a known success."""


class AEPDroppedRowsError(AEPFlowRunFailedError):
    """The flow run(s) succeeded but dropped more rows than the task tolerates (the quality gate)."""


def _class_for(status: int, code: str | None) -> type[AEPApiError]:
    if status in (401, 403):
        return AEPAuthError
    if status == 404:
        return AEPNotFoundError
    if status in (409, 412):
        return AEPConflictError
    if status == 429:
        return AEPRateLimitError
    if status >= 500:
        return AEPServerError
    if 400 <= status < 500:
        return AEPBadRequestError
    return AEPApiError


def _parse_error_body(body: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """Return ``(code, title, detail, request_id)`` from any documented AEP error body."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # Catalog sometimes wraps errors in a list
    if not isinstance(body, dict):
        text = str(body).strip() if body else None
        return None, None, (text[:_MAX_DETAIL] if text else None), None
    code: str | None = None
    type_url = body.get("type")
    if isinstance(type_url, str):
        match = _CODE_IN_TYPE.search(type_url)
        code = match.group(1) if match else None
    for key in ("error_code", "errorCode", "code", "error"):
        if code is None and body.get(key) is not None:
            code = str(body[key])
    title = body.get("title") or body.get("message") or body.get("error_description")
    raw_report = body.get("report")
    report: dict[str, Any] = raw_report if isinstance(raw_report, dict) else {}
    detail = body.get("detail") or report.get("detailed-message") or report.get("message")
    if detail is None and body.get("title") and body.get("message"):
        detail = body.get("message")
    request_id = report.get("request-id") or body.get("request-id") or body.get("requestId")
    return (
        code,
        str(title) if title is not None else None,
        str(detail) if detail is not None else None,
        str(request_id) if request_id is not None else None,
    )
