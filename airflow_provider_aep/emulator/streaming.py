"""Streaming inlets (``POST /collection/{inletId}``): webhook-style sources such as Shopify post here.

Inlets of webhook sources are unauthenticated (Shopify cannot send Adobe headers), so the inlet id
alone identifies the sandbox and the flow. Accepted records are counted into the flow's streaming run
and its dataset.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_aep.emulator.errors import ApiError
from airflow_provider_aep.emulator.gateway import parse_json
from airflow_provider_aep.emulator.state import Store

MAX_PAYLOAD_BYTES = 1024 * 1024


def _streaming_error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "type": f"https://ns.adobe.com/aep/errors/DCS-{status}",
        "title": message,
        "status": status,
        "report": {"message": message},
    }


def _streaming_error(status: int, message: str) -> JSONResponse:
    return JSONResponse(_streaming_error_body(status, message), status_code=status)


def _bad_payload(message: str) -> ApiError:
    return ApiError(400, _streaming_error_body(400, message))


def _record_count(payload: Any) -> int:
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        return len(payload["messages"])
    return 1


def streaming_routes(store: Store) -> list[Route]:
    """The streaming collection endpoint."""

    async def collect(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_PAYLOAD_BYTES:
            return _streaming_error(413, "The payload is larger than 1 MB.")
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type.lower():
            return _streaming_error(400, "Content-Type must be application/json")
        try:
            payload = parse_json(raw, _bad_payload)
        except ApiError as error:
            return JSONResponse(error.body, status_code=error.status)
        if not isinstance(payload, (dict, list)):
            # A message is a JSON object (``streamingMessage`` in streaming-ingestion.yaml); webhook
            # sources may post a JSON array of their events.
            return _streaming_error(400, "The payload must be a JSON object or an array of them.")
        inlet_id = request.path_params["inlet_id"]
        for sandbox in store.sandboxes:
            for inlet in store.kind(sandbox, "inlets").values():
                if inlet["inletId"] != inlet_id:
                    continue
                count = _record_count(payload)
                inlet["records"] += count
                if inlet.get("dataSetId"):
                    counts = store.kind(sandbox, "datasetRecords").setdefault(
                        inlet["dataSetId"], {"records": 0}
                    )
                    counts["records"] += count
                store.save()
                received_ms = int(store.now() * 1000)
                return JSONResponse(
                    {
                        "inletId": inlet_id,
                        "xactionId": f"{received_ms}:{int(time.time() * 1000) % 10000:04d}:1",
                        "receivedTimeMs": received_ms,
                    }
                )
        return _streaming_error(404, f"Inlet {inlet_id} was not found.")

    return [Route("/collection/{inlet_id}", collect, methods=["POST"])]
