"""``AEPHook``: the one place that talks HTTP to Adobe Experience Platform from a task."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Unpack

from airflow.sdk import BaseHook

from airflow_provider_aep.hooks._core import (
    TOKENS,
    AEPSettings,
    Call,
    Params,
    RequestOptions,
    RetryPolicy,
    parse_body,
    token_call,
    token_from_response,
)
from airflow_provider_aep.hooks.paging import read_page, single_item

if TYPE_CHECKING:
    import httpx

_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """The ``httpx.Client`` of this process, created on first use and shared by every sync hook.

    Building a client (its TLS context above all) costs tens of milliseconds of CPU, which a sensor
    would pay on every poke; one client also keeps its connections alive between calls. It holds the
    connection pool only: each request carries its own connection's timeout. ``httpx.Client`` is
    thread-safe; a forked child (a Celery or task-runner process) makes its own.
    """
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None or client.is_closed:
        import httpx

        with _clients_lock:
            client = _clients.get(pid)
            if client is None or client.is_closed:
                _clients.clear()  # another pid's client belongs to the parent process
                client = httpx.Client(follow_redirects=False)
                _clients[pid] = client
    return client


#: The Data Lake (target) connection spec, the same id in every org (the sources tutorials).
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"


class AEPHook(BaseHook):
    """Authenticated access to the AEP Platform APIs (Flow Service, Catalog, Schema Registry, Data Prep).

    It gets an Adobe IMS OAuth server-to-server access token with the connection's client ID and
    secret, caches it for the whole process (shared with every other hook on the same credential,
    renewed ten minutes before it expires, and once more if AEP answers 401), sends the four Platform
    headers on every call, retries transient failures (429, 502, 503, 504, lost connections) with
    back-off honouring ``Retry-After``, and raises :class:`~airflow_provider_aep.exceptions.AEPApiError`
    subclasses that carry AEP's status, error code, title, detail and request id.

    A POST is not repeated after its answer may have been lost unless the caller says it is safe
    (``idempotent=True``): the operators look a resource up before creating it instead.

    The client secret and the token are registered with Airflow's secret masker and never appear in
    a log line, ``repr`` or exception.

    :param aep_conn_id: Airflow connection of type ``aep``.
    :param sandbox: sandbox to use instead of the connection's.
    :param retry: retry policy instead of the connection's.
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = "aep_default"
    conn_type = "aep"
    hook_name = "Adobe Experience Platform"

    def __init__(
        self,
        aep_conn_id: str = default_conn_name,
        sandbox: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.aep_conn_id = aep_conn_id
        self._sandbox = sandbox
        self._retry = retry

    def __repr__(self) -> str:
        return f"AEPHook(aep_conn_id={self.aep_conn_id!r})"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form (Airflow before 3.2 asks the hook; later versions read provider info)."""
        from airflow_provider_aep import get_provider_info

        behaviour: dict[str, Any] = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {key.replace("-", "_"): value for key, value in behaviour.items()}

    @cached_property
    def settings(self) -> AEPSettings:
        """The connection's settings, with this hook's sandbox and retry overrides."""
        from airflow.sdk.log import mask_secret

        settings = AEPSettings.from_connection(self.get_connection(self.aep_conn_id))
        mask_secret(settings.client_secret)
        return settings.overridden(self._sandbox, self._retry)

    @property
    def client(self) -> httpx.Client:
        """The process's shared ``httpx.Client`` (:func:`shared_client`)."""
        return shared_client()

    def close(self) -> None:
        """Nothing to release: the HTTP client is shared by every hook of the process."""

    def __enter__(self) -> AEPHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- authentication ---------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid IMS access token, from the process cache or a new token request."""
        key = self.settings.token_key
        token = TOKENS.get(key)
        if token is None:
            with TOKENS.thread_lock(key):
                token = TOKENS.get(key)
                if token is None:
                    from airflow.sdk.log import mask_secret

                    token = token_from_response(self._send(token_call(self.settings), None))
                    mask_secret(token.value)
                    TOKENS.store(key, token)
        return token.value

    # -- calls ------------------------------------------------------------------------------

    def _send(self, call: Call, token: str | None) -> httpx.Response:
        import httpx

        while True:
            try:
                response = self.client.request(**call.request_args(token))
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
                TOKENS.discard(self.settings.token_key, token)
                token = self.access_token()
                continue
            self.log.warning(
                "AEP %s %s failed (try %d); retrying in %.1f s",
                call.method,
                call.where,
                call.attempt,
                decision.delay,
            )
            time.sleep(decision.delay)

    def request(self, method: str, service: str, path: str, **options: Unpack[RequestOptions]) -> Any:
        """Call AEP and return the parsed JSON answer (``None`` for an empty one, e.g. 204).

        :param method: HTTP method.
        :param service: ``flowservice``, ``catalog``, ``schemaregistry``, ``conversion`` (Data Prep) or
            ``export`` (Data Access: error diagnostics).
        :param path: path under the service, e.g. ``/flows/{id}``.
        :param options: ``json`` (request body), ``params`` (query), ``headers`` (extra, e.g.
            ``If-Match``), ``sandbox`` and ``retry`` (this call only), ``idempotent`` (whether the call
            may be repeated after a lost answer; default: not for POST): see
            [RequestOptions][airflow_provider_aep.hooks._core.RequestOptions].
        """
        call = Call.for_request(self.settings, method, service, path, **options)
        return parse_body(self._send(call, self.access_token()))

    def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("GET", service, path, **kwargs)

    def post(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("POST", service, path, **kwargs)

    def patch(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", service, path, **kwargs)

    def delete(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", service, path, **kwargs)

    def get_item(self, service: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """GET one resource, unwrapped from Flow Service's ``items`` or Catalog's keyed object."""
        return single_item(self.get(service, path, **kwargs), path)

    def iter_items(
        self, service: str, path: str, params: Params | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Every object of a list, page after page (``_links.next`` or Catalog's ``start``/``limit``)."""
        query: Any = params
        while True:
            page = read_page(self.get(service, path, params=query, **kwargs), path, query)
            yield from page.items
            if page.next_path is None:
                return
            path, query = page.next_path, page.next_params

    def test_connection(self) -> tuple[bool, str]:
        """Get a token and list one connection spec: proves the credentials, org and sandbox."""
        try:
            # one small documented look-up: the data lake connection spec, by id (sort-and-filter.md)
            self.get("flowservice", "/connectionSpecs", params={"property": f"id=={DATA_LAKE_SPEC_ID}"})
        except Exception as exc:
            return False, str(exc)
        return True, f"Authenticated to AEP org {self.settings.org_id}, sandbox {self.settings.sandbox}"
