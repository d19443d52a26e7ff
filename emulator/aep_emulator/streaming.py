"""Streaming inlets: ``POST /collection/{inletId}`` (one message) and ``POST /collection/batch/{inletId}``.

Inlets of webhook sources are unauthenticated (Shopify cannot send Adobe headers), so the inlet id
alone identifies the sandbox and the flow. Accepted records are counted into the flow's streaming run
and its dataset, by one function for both endpoints.

**The batch endpoint** (help/ingestion/tutorials/streaming-multiple-messages.md, summarised in
``adobe-docs/streaming/streaming-multiple-messages.md``; ``postBatchOfStreamingMessages`` in
``streaming-ingestion.yaml``) takes ``{"messages": [...]}`` and always answers ``207`` with
``{inletId, batchId, receivedTimeMs, responses}``: one element per message, in request order,
``{xactionId}`` for an accepted message (``<batchId>:<index>``, as the all-success example shows) or
``{statusCode: 400, message: "inletId: [...] imsOrgId: [...] <reason>"}``. A message fails when:

- it is an XDM message (it has a ``header`` or a ``body``) without both a ``header`` and a ``body``
  object: "Message has unknown xdm format" (the tutorial's second message, which lacks a body);
- its ``header.imsOrgId`` is not the inlet's org: "Message has an absent or wrong ims org in the
  header" (a missing ``imsOrgId`` is added by DCCS, so it passes);
- its ``header.datasetId`` names no dataset of the inlet's sandbox, or a dataset whose schema is not
  the ``header.schemaRef.id``: "Message has unknown xdm format" (the tutorial's fourth message);
- it is not a JSON object at all: "Message has unknown xdm format".

**Webhook sources** (Shopify, seed 000) post their own JSON, not the XDM envelope, to the single
endpoint. ``streaming-ingestion.yaml`` says of the batch endpoint that "the message format remains
identical to the one sent in a POST request to /collection/{CONNECTION_ID}", so a batch message that
is a JSON object with neither ``header`` nor ``body`` is one webhook message and is accepted, as the
single endpoint accepts it (seed 000 shows AEP wrapping it as ``{header: {source}, body: <order>}``).

Request-level answers: ``413`` above 1 MB (the whole body), ``400`` for a body that is not JSON or not
``{"messages": [at least one message]}`` (checked before the inlet is looked up), ``404`` for an
unknown inlet, and ``429`` with ``Retry-After`` when ``streaming_rate_limit_per_second`` is set and an
inlet gets more requests (of either endpoint) within one second (help/ingestion/streaming-ingestion/
overview.md documents a rate guidance of 1,000 requests per second; the tutorial's 429 "too many
requests within specified time duration").
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aep_emulator.errors import ApiError
from aep_emulator.gateway import parse_json
from aep_emulator.state import Resource, Store

MAX_PAYLOAD_BYTES = 1024 * 1024
UNKNOWN_XDM_FORMAT = "Message has unknown xdm format"
WRONG_IMS_ORG = "Message has an absent or wrong ims org in the header"


def _streaming_error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "type": f"https://ns.adobe.com/aep/errors/DCS-{status}",
        "title": message,
        "status": status,
        "report": {"message": message},
    }


def _streaming_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(_streaming_error_body(status, message), status_code=status, headers=headers)


def _bad_payload(message: str) -> ApiError:
    return ApiError(400, _streaming_error_body(400, message))


def _record_count(payload: Any) -> int:
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        return len(payload["messages"])
    return 1


def _find_inlet(store: Store, inlet_id: str) -> tuple[str, Resource] | None:
    """The sandbox and inlet record of ``inlet_id``, if a streaming flow has it."""
    for sandbox in store.sandboxes:
        for inlet in store.kind(sandbox, "inlets").values():
            if inlet["inletId"] == inlet_id:
                return sandbox, inlet
    return None


def count_accepted(store: Store, sandbox: str, inlet: Resource, count: int) -> None:
    """Count ``count`` accepted records into the flow's streaming run (the inlet) and its dataset."""
    if count <= 0:
        return
    inlet["records"] += count
    if inlet.get("dataSetId"):
        counts = store.kind(sandbox, "datasetRecords").setdefault(inlet["dataSetId"], {"records": 0})
        counts["records"] += count
    store.save()


class RateLimiter:
    """At most ``streaming_rate_limit_per_second`` requests per inlet in any one-second window.

    Real (monotonic) time, not the emulated clock: a rate limit is about how fast a client sends.
    Requests answered ``429`` do not count.
    """

    def __init__(self) -> None:
        self._seen: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, inlet_id: str, limit: float | None) -> int | None:
        """``None`` when the request may go on (and is counted), else the seconds to wait (>= 1)."""
        if not limit:
            return None
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(inlet_id, collections.deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + 1.0 - now))
            window.append(now)
            if len(self._seen) > 10_000:  # inlet ids come from the client: keep the table bounded
                self._seen = {inlet_id: window}
            return None


def _read_checked(raw: bytes, content_type: str) -> Any:
    """The parsed body, or :class:`ApiError` (413 over 1 MB, 400 not JSON)."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ApiError(413, _streaming_error_body(413, "The payload is larger than 1 MB."))
    if "json" not in content_type.lower():
        raise _bad_payload("Content-Type must be application/json")
    return parse_json(raw, _bad_payload)


def _message_problem(message: Any, org_id: str, datasets: dict[str, Resource]) -> str | None:
    """Why one batch message fails DCCS validation, or ``None`` when it is accepted (module docstring).

    :param org_id: the inlet's IMS org.
    :param datasets: the datasets of the inlet's sandbox, by id.
    """
    if not isinstance(message, dict):
        return UNKNOWN_XDM_FORMAT
    if "header" not in message and "body" not in message:
        return None  # a webhook source's own JSON, as the single endpoint takes it
    header, body = message.get("header"), message.get("body")
    if not isinstance(header, dict) or not isinstance(body, dict):
        return UNKNOWN_XDM_FORMAT
    org = header.get("imsOrgId")
    if org is not None and org != org_id:
        return WRONG_IMS_ORG
    dataset_id = header.get("datasetId")
    if dataset_id is not None:
        dataset = datasets.get(dataset_id) if isinstance(dataset_id, str) else None
        if dataset is None:
            return UNKNOWN_XDM_FORMAT
        schema_ref = header.get("schemaRef")
        wanted = schema_ref.get("id") if isinstance(schema_ref, dict) else None
        if wanted is not None and wanted != (dataset.get("schemaRef") or {}).get("id"):
            return UNKNOWN_XDM_FORMAT
    return None


def _single_shape_problem(payload: Any) -> str | None:
    # A message is a JSON object (``streamingMessage`` in streaming-ingestion.yaml); webhook sources
    # may post a JSON array of their events.
    if isinstance(payload, dict | list):
        return None
    return "The payload must be a JSON object or an array of them."


def _batch_shape_problem(payload: Any) -> str | None:
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if isinstance(messages, list) and messages:
        return None
    return 'The payload must be a JSON object {"messages": [...]} with at least one message.'


@dataclass(frozen=True)
class Collected:
    """A streaming request that passed the checks both endpoints share: its inlet and parsed body."""

    inlet_id: str
    sandbox: str
    inlet: Resource
    payload: Any


class _Ids:
    """``receivedTimeMs``-based transaction and batch ids, ``<ms>:<4 digits>:<sequence>`` like AEP's."""

    def __init__(self) -> None:
        self._sequence = 0
        self._lock = threading.Lock()

    def next(self, received_ms: int) -> str:
        with self._lock:
            self._sequence = (self._sequence + 1) % 1000
            sequence = self._sequence
        return f"{received_ms}:{int(time.time() * 1000) % 10000:04d}:{sequence}"


def streaming_routes(store: Store) -> list[Route]:
    """The streaming collection endpoints (one message, and a batch of messages)."""
    limiter = RateLimiter()
    ids = _Ids()

    async def read_request(
        request: Request, shape_problem: Callable[[Any], str | None]
    ) -> Collected | Response:
        """What both endpoints check first, in this order: the rate limit, the body (size, JSON), its
        shape (``shape_problem`` says what is wrong with it, if anything: a 400), and the inlet (404)."""
        inlet_id = str(request.path_params["inlet_id"])
        wait = limiter.retry_after(inlet_id, store.config.streaming_rate_limit_per_second)
        if wait is not None:
            return _streaming_error(
                429, "Too many requests within the specified time duration.", {"Retry-After": str(wait)}
            )
        try:
            payload = _read_checked(await request.body(), request.headers.get("content-type", ""))
        except ApiError as error:
            return JSONResponse(error.body, status_code=error.status)
        problem = shape_problem(payload)
        if problem is not None:
            return _streaming_error(400, problem)
        found = _find_inlet(store, inlet_id)
        if found is None:
            return _streaming_error(404, f"Inlet {inlet_id} was not found.")
        return Collected(inlet_id, *found, payload)

    async def collect(request: Request) -> Response:
        collected = await read_request(request, _single_shape_problem)
        if isinstance(collected, Response):
            return collected
        count_accepted(store, collected.sandbox, collected.inlet, _record_count(collected.payload))
        received_ms = store.now_ms()
        return JSONResponse(
            {"inletId": collected.inlet_id, "xactionId": ids.next(received_ms), "receivedTimeMs": received_ms}
        )

    async def collect_batch(request: Request) -> Response:
        collected = await read_request(request, _batch_shape_problem)
        if isinstance(collected, Response):
            return collected
        received_ms = store.now_ms()
        batch_id = ids.next(received_ms)
        prefix = f"inletId: [{collected.inlet_id}] imsOrgId: [{store.settings.org_id}] "
        datasets = store.kind(collected.sandbox, "dataSets")
        responses: list[dict[str, Any]] = []
        accepted = 0
        for index, message in enumerate(collected.payload["messages"]):
            problem = _message_problem(message, store.settings.org_id, datasets)
            if problem is None:
                responses.append({"xactionId": f"{batch_id}:{index}"})
                accepted += 1
            else:
                responses.append({"statusCode": 400, "message": prefix + problem})
        count_accepted(store, collected.sandbox, collected.inlet, accepted)
        return JSONResponse(
            {
                "inletId": collected.inlet_id,
                "batchId": batch_id,
                "receivedTimeMs": received_ms,
                "responses": responses,
            },
            status_code=207,
        )

    return [
        Route("/collection/batch/{inlet_id}", collect_batch, methods=["POST"]),
        Route("/collection/{inlet_id}", collect, methods=["POST"]),
    ]
