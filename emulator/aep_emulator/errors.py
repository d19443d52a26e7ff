"""AEP's error bodies, one builder per service family, raised as :class:`ApiError` by handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ApiError(Exception):
    """An HTTP error answer with the exact body the real service would send.

    :param status: HTTP status code.
    :param body: JSON body of the answer.
    :param headers: extra response headers (e.g. ``Retry-After``).
    """

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def gateway_error(status: int, error_code: str, message: str) -> ApiError:
    """Adobe I/O gateway rejection (``{"error_code", "message"}``) that happens before any service."""
    return ApiError(status, {"error_code": error_code, "message": message})


def flow_error(code: str, title: str, message: str, kind: str = "flows", request_id: str = "") -> ApiError:
    """Flow Service error: ``code`` is ``<number>-<status>``, e.g. ``1403-400``.

    :param code: Flow Service error code with its HTTP status suffix.
    :param title: short title, e.g. ``Resource not found``.
    :param message: the ``report.detailed-message``.
    :param kind: the ``report.type`` (resource kind the error is about).
    :param request_id: filled in by the app when empty.
    """
    status = int(code.rsplit("-", 1)[1])
    return ApiError(
        status,
        {
            "type": f"https://ns.adobe.com/aep/errors/FLOW-{code}",
            "title": title,
            "status": status,
            "report": {
                "detailed-message": message,
                "id": "",
                "request-id": request_id,
                "type": kind,
            },
        },
    )


def xdm_error(code: str, title: str, detail: str) -> ApiError:
    """Schema Registry error, e.g. ``1521-400`` for a title that is not unique."""
    status = int(code.rsplit("-", 1)[1])
    return ApiError(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/XDM-{code}",
            "title": title,
            "status": status,
            "report": {"registryRequestId": "", "timestamp": "", "detailed-message": detail},
            "detail": detail,
        },
    )


def catalog_error(status: int, message: str) -> ApiError:
    """Catalog Service error (``{"type", "title", "status", "detail"}``)."""
    return _service_error("CAT", status, message)


def conversion_error(status: int, message: str) -> ApiError:
    """Data Prep (conversion) service error."""
    return _service_error("MAPPER", status, message)


def _service_error(prefix: str, status: int, message: str) -> ApiError:
    """``{"type", "title", "status", "detail"}`` with an ``aep/errors/<prefix>-<status>`` type."""
    return ApiError(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/{prefix}-{status}",
            "title": message,
            "status": status,
            "detail": message,
        },
    )


#: A service's answer to input it cannot use (a body that is not JSON, a field of the wrong type...).
InvalidInput = Callable[[str], ApiError]


def flow_bad_request(message: str) -> ApiError:
    """Flow Service's 400 for input it cannot use (``FLOW-1400-400``)."""
    return flow_error("1400-400", "Bad request", message, "request")


def catalog_bad_request(message: str) -> ApiError:
    """Catalog's 400 for input it cannot use."""
    return catalog_error(400, message)


def xdm_bad_request(message: str) -> ApiError:
    """Schema Registry's 400 for input it cannot use (``XDM-1000-400``)."""
    return xdm_error("1000-400", "Bad request", message)


def conversion_bad_request(message: str) -> ApiError:
    """Data Prep's 400 for input it cannot use."""
    return conversion_error(400, message)


def not_found(kind: str, resource_id: str) -> ApiError:
    """Flow Service 404 for a resource kind (``FLOW-1439-404`` style)."""
    return flow_error("1439-404", "Resource not found", f"No {kind} found with id {resource_id}", kind)


def with_request_id(error: ApiError, request_id: str) -> ApiError:
    """Stamp the request id into a Flow-Service-style report (the app knows it, builders do not)."""
    report = error.body.get("report") if isinstance(error.body, dict) else None
    if isinstance(report, dict):
        if "request-id" in report and not report["request-id"]:
            report["request-id"] = request_id
        if "id" in report and not report["id"]:
            report["id"] = request_id
        if "registryRequestId" in report and not report["registryRequestId"]:
            report["registryRequestId"] = request_id
    return error
