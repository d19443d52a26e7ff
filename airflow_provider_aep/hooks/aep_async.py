"""``AEPAsyncHook``: the async twin of :class:`~airflow_provider_aep.hooks.aep.AEPHook`, for triggers.

It shares every decision with the sync hook (``_core.Call``: headers, retries, 401 renewal, errors)
and the process-wide token cache. What it adds is what a triggerer needs to hold thousands of waits
in one event loop: the Airflow connection is read without blocking the loop and cached for a few
minutes (until IMS or AEP answers ``401``: a rotated client secret is then read at once), every hook
on the same event loop shares one ``httpx.AsyncClient`` (one connection pool), and concurrent
callers share one token request.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Unpack

from airflow_provider_aep.exceptions import AEPAuthError
from airflow_provider_aep.hooks._core import (
    TOKENS,
    AEPSettings,
    Call,
    RequestOptions,
    RetryPolicy,
    parse_body,
    token_call,
    token_from_response,
)
from airflow_provider_aep.hooks.paging import single_item

if TYPE_CHECKING:
    import httpx

#: How long a trigger reuses an Airflow connection it read, before reading it again.
SETTINGS_TTL_SECONDS = 300.0

_settings_cache: dict[str, tuple[float, AEPSettings]] = {}
_clients: dict[int, httpx.AsyncClient] = {}


def shared_async_client() -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` of the running event loop, created on first use.

    It holds the connection pool only: each request carries its own connection's timeout
    (``Call.request_args``), so the first hook on the loop does not impose its timeout on the others.
    """
    import httpx

    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        client = httpx.AsyncClient(limits=limits, follow_redirects=False)
        _clients[id(loop)] = client
    return client


def forget_settings(aep_conn_id: str) -> None:
    """Drop the cached settings of a connection: the next call reads the Airflow connection again."""
    _settings_cache.pop(aep_conn_id, None)


async def close_shared_clients() -> None:
    """Close the shared client of the running loop (tests and benchmarks call this at the end)."""
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()


class AEPAsyncHook:
    """Async access to AEP for triggers; same behaviour as ``AEPHook``.

    :param aep_conn_id: Airflow connection of type ``aep``.
    :param sandbox: sandbox to use instead of the connection's.
    :param retry: retry policy instead of the connection's.
    """

    def __init__(
        self,
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.aep_conn_id = aep_conn_id
        self._sandbox = sandbox
        self._retry = retry

    def __repr__(self) -> str:
        return f"AEPAsyncHook(aep_conn_id={self.aep_conn_id!r})"

    async def settings(self) -> AEPSettings:
        """The connection's settings, read without blocking the event loop and cached briefly."""
        cached = _settings_cache.get(self.aep_conn_id)
        if cached is None or time.monotonic() - cached[0] > SETTINGS_TTL_SECONDS:
            from airflow.sdk import BaseHook
            from airflow.sdk.log import amask_secret

            conn = await BaseHook.aget_connection(self.aep_conn_id)
            settings = AEPSettings.from_connection(conn)
            await amask_secret(settings.client_secret)
            cached = (time.monotonic(), settings)
            _settings_cache[self.aep_conn_id] = cached
        return cached[1].overridden(self._sandbox, self._retry)

    async def access_token(self, settings: AEPSettings | None = None) -> str:
        """A valid IMS token; concurrent callers on the same credential share one request."""
        settings = settings or await self.settings()
        key = settings.token_key
        token = TOKENS.get(key)
        if token is None:
            async with TOKENS.async_lock(key):
                token = TOKENS.get(key)
                if token is None:
                    from airflow.sdk.log import amask_secret

                    token = token_from_response(await self._send(settings, token_call(settings), None))
                    await amask_secret(token.value)
                    TOKENS.store(key, token)
        return token.value

    async def _send(self, settings: AEPSettings, call: Call, token: str | None) -> httpx.Response:
        import httpx

        client = shared_async_client()
        while True:
            try:
                response = await client.request(**call.request_args(token))
            except httpx.TransportError as exc:
                decision = call.after_transport_error(exc)
            else:
                decision = call.after_response(response)
            if decision.action == "return":
                return response
            if decision.action == "raise":
                assert decision.error is not None
                raise decision.error
            if decision.action == "reauth":
                assert token is not None
                TOKENS.discard(settings.token_key, token)
                token = await self.access_token(settings)
                continue
            await asyncio.sleep(decision.delay)

    async def request(self, method: str, service: str, path: str, **options: Unpack[RequestOptions]) -> Any:
        """Call AEP and return the parsed JSON answer; see ``AEPHook.request``.

        A final ``401`` (from IMS, or from AEP after a renewed token) drops the cached connection
        settings: if the connection read again holds other credentials (a rotated client secret),
        the call is made once more with them. AEP acts on nothing it answered ``401`` to, so the
        repeat is safe even for a create.
        """

        def call(settings: AEPSettings) -> Call:
            return Call.for_request(settings, method, service, path, **options)

        settings = await self.settings()
        try:
            return await self._call(settings, call(settings))
        except AEPAuthError as error:
            if error.status != 401:
                raise
            forget_settings(self.aep_conn_id)
            fresh = await self.settings()
            if fresh.token_key == settings.token_key:
                raise
            return await self._call(fresh, call(fresh))

    async def _call(self, settings: AEPSettings, call: Call) -> Any:
        return parse_body(await self._send(settings, call, await self.access_token(settings)))

    async def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", service, path, **kwargs)

    async def get_item(self, service: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """GET one resource, unwrapping ``{"items": [ {...} ]}``."""
        return single_item(await self.get(service, path, **kwargs), path)
