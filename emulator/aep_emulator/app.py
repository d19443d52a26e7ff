"""Assemble the emulator: IMS, the Platform services, streaming inlets and the admin API on one app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aep_emulator.admin import admin_routes
from aep_emulator.catalog import catalog_routes
from aep_emulator.data_prep import data_prep_routes
from aep_emulator.diagnostics import export_routes
from aep_emulator.faults import ADMIN_PREFIX, FaultAndLogMiddleware, FaultRule
from aep_emulator.flow_service import flow_service_routes
from aep_emulator.ims import token_endpoint
from aep_emulator.recording import record_requests
from aep_emulator.schema_registry import schema_registry_routes
from aep_emulator.settings import EmulatorSettings
from aep_emulator.state import Store
from aep_emulator.streaming import streaming_routes


@dataclass
class Runtime:
    """What the admin API and the fault layer share with the services.

    :param store: the emulated platform's state.
    :param public_url: base URL clients use (for printed links).
    """

    store: Store
    public_url: str
    faults: list[FaultRule] = field(default_factory=list)
    request_log: list[dict[str, Any]] = field(default_factory=list)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    # The gateway answers unknown paths with its own error shape.
    return JSONResponse({"error_code": "404050", "message": "Resource not found"}, status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error_code": "405050", "message": "Method not allowed"}, status_code=405)


class TrailingSlashes:
    """Route ``/tenant/schemas/`` exactly like ``/tenant/schemas`` (and so on for every path).

    Real clients send collection paths with a trailing slash and AEP answers them as without it: the
    public ``aepp`` client (``AEP_API_NOTES.md`` section 7) lists ``/tenant/schemas/``, ``/stats/`` and
    Catalog's ``/dataSets/``, and ``flow-service.yaml`` itself writes ``PATCH /connections/{id}/``.
    Starlette would answer a redirect instead, which a client sending a ``POST`` does not follow.

    :param app: the routed application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            raw_path = scope.get("raw_path") or path.encode()
            scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": raw_path.rstrip(b"/") or b"/"}
        await self.app(scope, receive, send)


def create_app(settings: EmulatorSettings, public_url: str | None = None) -> ASGIApp:
    """Build the ASGI app for ``settings``; ``public_url`` defaults to ``http://host:port``.

    :param settings: start-up settings.
    :param public_url: the URL clients reach the emulator at.
    """
    store = Store(settings)
    runtime = Runtime(store=store, public_url=public_url or f"http://{settings.host}:{settings.port}")
    routes: list[Route | Mount] = [
        Route("/ims/token/v3", token_endpoint(store), methods=["POST"]),  # type: ignore[arg-type]
        *flow_service_routes(store),
        *catalog_routes(store),
        *schema_registry_routes(store),
        *data_prep_routes(store),
        *export_routes(store),
        *streaming_routes(store),
        Mount(ADMIN_PREFIX, routes=admin_routes(runtime)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _method_not_allowed})
    app.state.runtime = runtime
    routed = FaultAndLogMiddleware(TrailingSlashes(app), runtime)
    return record_requests(routed)  # AEP_EMULATOR_RECORD: see recording.py
