"""Streaming ingestion: post events to a dataflow's streaming inlet (seed 000, Shopify)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators.base import AEPBaseOperator

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Context, XComArg

#: The streaming API asks for back-off with at least three tries on 429 and 503.
RETRY_STATUSES = frozenset({429, 503})


class AEPSendStreamingEventsOperator(AEPBaseOperator):
    """Post events to a streaming inlet URL (``POST /collection/<inlet id>``), one request per event.

    The inlet URL is what ``AEPGetDataflowOperator`` pushes as ``inlet_url``. Unauthenticated inlets
    (webhook sources such as Shopify) take no credentials; for an authenticated inlet set
    ``authenticated=True`` and the ``aep`` connection's token and headers are sent. A ``429`` or
    ``503`` (AEP did not accept the event) is retried with back-off honouring ``Retry-After``; any
    other error fails the task. Events are not repeated after a lost answer (they would be ingested
    twice).

    XCom: return value = the number of events accepted.

    :param inlet_url: the streaming inlet URL, e.g.
        ``{{ ti.xcom_pull('get_flow', key='inlet_url') }}`` (templated).
    :param events: one event (a JSON object, e.g. a Shopify order webhook body) or a list of them (templated).
    :param authenticated: send the AEP token and headers (authenticated inlets only).
    :param sync_validation: ask AEP to validate each event before answering (``syncValidation=true``).
    :param max_attempts: tries per event on 429/503.
    :param timeout: seconds per request.
    """

    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "inlet_url", "events")
    template_fields_renderers = {"events": "json"}

    def __init__(
        self,
        *,
        inlet_url: str,
        events: Mapping[str, Any] | Sequence[Mapping[str, Any]] | XComArg,
        authenticated: bool = False,
        sync_validation: bool = False,
        max_attempts: int = 5,
        timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_attempts < 1:
            raise AEPConfigError(f"max_attempts: must be at least 1, got {max_attempts}")
        self.inlet_url = inlet_url
        self.events = events
        self.authenticated = authenticated
        self.sync_validation = sync_validation
        self.max_attempts = max_attempts
        self.timeout = timeout

    def checked_events(self) -> list[dict[str, Any]]:
        events = [self.events] if isinstance(self.events, Mapping) else self.events
        if isinstance(events, str) or not isinstance(events, Sequence) or not events:
            raise AEPConfigError("events: must be a JSON object or a non-empty list of JSON objects")
        for index, event in enumerate(events):
            if not isinstance(event, Mapping):
                raise AEPConfigError(f"events[{index}]: must be a JSON object")
        return [dict(event) for event in events]

    def checked_url(self) -> str:
        url = str(self.inlet_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AEPConfigError("inlet_url: must be an http(s) URL (the dataflow's inlet_url)")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise AEPConfigError("inlet_url: must use https (plain http is only accepted on loopback)")
        return url

    def headers(self) -> dict[str, str]:
        from airflow_provider_aep.hooks._core import user_agent

        headers = {"Content-Type": "application/json", "User-Agent": user_agent()}
        if self.authenticated:
            settings = self.hook.settings
            headers |= {
                "Authorization": f"Bearer {self.hook.access_token()}",
                "x-api-key": settings.client_id,
                "x-gw-ims-org-id": settings.org_id,
                "x-sandbox-name": (self.sandbox or settings.sandbox).lower(),
            }
        return headers

    def execute(self, context: Context) -> int:
        import httpx

        events = self.checked_events()
        url = self.checked_url()
        params = {"syncValidation": "true"} if self.sync_validation else None
        with httpx.Client(timeout=self.timeout) as client:
            headers = self.headers()
            for number, event in enumerate(events, start=1):
                self.send_one(client, url, headers, params, event, number)
        self.log.info("AEP accepted %d event(s) at the inlet", len(events))
        return len(events)

    def send_one(
        self,
        client: httpx.Client,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        event: Mapping[str, Any],
        number: int,
    ) -> None:
        import httpx

        from airflow_provider_aep.exceptions import AEPApiError, AEPTransportError
        from airflow_provider_aep.hooks._core import RetryPolicy, is_success

        policy = RetryPolicy(max_attempts=self.max_attempts)
        path = urlsplit(url).path
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = client.post(url, json=event, headers=dict(headers), params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if attempt == self.max_attempts:
                    raise AEPTransportError(
                        f"POST {path}: no answer from the inlet ({type(error).__name__})"
                    ) from None
                delay = policy.backoff(attempt)
            except httpx.TransportError as error:
                # The event may have been ingested: do not send it twice.
                raise AEPTransportError(
                    f"POST {path}: event {number} got no answer ({type(error).__name__}); not resent"
                ) from None
            else:
                if is_success(response.status_code):
                    return
                if response.status_code not in RETRY_STATUSES or attempt == self.max_attempts:
                    raise AEPApiError.from_response(
                        response.status_code,
                        response.text,
                        method="POST",
                        url=path,
                        headers=dict(response.headers),
                    )
                delay = policy.delay(attempt, response.headers.get("Retry-After"))
            self.log.warning("Event %d: inlet busy (try %d); retrying in %.1f s", number, attempt, delay)
            time.sleep(delay)
