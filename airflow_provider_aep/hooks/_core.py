"""What the sync and async AEP hooks share: everything but the I/O.

* :class:`AEPSettings` reads an Airflow connection of type ``aep``.
* :class:`TokenCache` keeps one IMS access token per credential in the process and knows when it
  is due for renewal.
* :class:`RetryPolicy` decides whether and how long to wait before repeating a call.
* :class:`Call` is the state machine of one Platform call: it builds the request, then reads each
  answer (or transport error) and says what to do next: return, raise, renew the token, or wait.

The hooks (``aep.py``, ``aep_async.py``) only send requests and sleep; every decision is made here,
so the two never disagree.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hashlib
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from urllib.parse import urlsplit

from airflow_provider_aep import DEFAULT_SCOPES
from airflow_provider_aep.exceptions import AEPApiError, AEPConfigError, AEPTransportError
from airflow_provider_aep.hooks.connection_extras import (
    checked_number,
    checked_org_id,
    checked_sandbox,
    checked_scopes,
    checked_url,
    extra_object,
    extra_value,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_GATEWAY_URL = "https://platform.adobe.io"
DEFAULT_IMS_URL = "https://ims-na1.adobelogin.com"
IMS_TOKEN_PATH = "/ims/token/v3"

SERVICE_PATHS: Mapping[str, str] = {
    "flowservice": "/data/foundation/flowservice",
    "catalog": "/data/foundation/catalog",
    "schemaregistry": "/data/foundation/schemaregistry",
    "conversion": "/data/foundation/conversion",
    # Data Access: batch files and error diagnostics (help/ingestion/quality/error-diagnostics.md)
    "export": "/data/foundation/export",
}

#: Query parameters: a mapping, or pairs where a name repeats (``property`` filters).
Params = Mapping[str, Any] | list[tuple[str, Any]]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

#: Renew a token this long before it expires (at most a tenth of its lifetime, for short-lived ones).
TOKEN_RENEWAL_MARGIN_SECONDS = 600.0


@functools.cache
def user_agent() -> str:
    """``airflow-provider-aep/<version>``, sent on every request; read from the installed package once."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("airflow-provider-aep")
    except PackageNotFoundError:  # running from a checkout that is not installed
        from airflow_provider_aep import __version__ as installed
    return f"airflow-provider-aep/{installed}"


@dataclass(frozen=True)
class RetryPolicy:
    """How a call is repeated after a transient failure.

    Retries happen on 429, 502, 503, 504 and on transport errors, with exponential back-off and
    jitter, honouring ``Retry-After`` (seconds or an HTTP date). A call that is not safe to repeat
    (a create) is retried only when AEP cannot have acted on it: a 429, or a connection that was
    never established.

    :param max_attempts: total tries, the first included.
    :param base_delay: back-off before the second try, in seconds; doubles at each try.
    :param max_delay: cap of one back-off, in seconds.
    :param max_elapsed: give up once this many seconds have passed since the first try.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_elapsed: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise AEPConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise AEPConfigError("retry delays must not be negative")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based), with equal jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def delay(self, attempt: int, retry_after: str | None, now: float | None = None) -> float:
        """Seconds to wait before the next try: ``Retry-After`` when AEP sent one, else back-off."""
        asked = parse_retry_after(retry_after, now)
        return asked if asked is not None else self.backoff(attempt)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta seconds or an HTTP date. ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds > 0 else 0.0
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class AEPSettings:
    """Everything needed to talk to one AEP org and sandbox, read from an ``aep`` Airflow connection.

    Connection fields: login = client ID (API key), password = client secret, host = Platform
    gateway URL; extras ``org_id`` (required), ``sandbox``, ``scopes``, ``ims_url``, and optionally
    ``timeout`` (seconds), ``max_attempts``, ``max_elapsed`` (retry budget in seconds).
    """

    client_id: str
    client_secret: str = field(repr=False)
    org_id: str
    sandbox: str = "prod"
    scopes: str = DEFAULT_SCOPES
    ims_url: str = DEFAULT_IMS_URL
    gateway_url: str = DEFAULT_GATEWAY_URL
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_connection(cls, conn: Any) -> AEPSettings:
        """Build settings from an Airflow ``Connection``; a missing or malformed field fails naming it
        (:mod:`~airflow_provider_aep.hooks.connection_extras`), before any HTTP call."""
        extra = extra_object(conn)
        missing = [
            label
            for label, value in (
                ("login (client ID)", conn.login),
                ("password (client secret)", conn.password),
                ("extra org_id", extra_value(extra, "org_id")),
            )
            if not value
        ]
        if missing:
            raise AEPConfigError(f"Airflow connection {conn.conn_id!r} lacks {', '.join(missing)}")
        try:
            return cls._checked(conn, extra)
        except AEPConfigError as error:
            raise AEPConfigError(f"Airflow connection {conn.conn_id!r}: {error}") from None

    @classmethod
    def _checked(cls, conn: Any, extra: Mapping[str, Any]) -> AEPSettings:
        def given(name: str) -> Any:
            return extra_value(extra, name)

        retry_args = {
            name: checked_number(given(name), name, kind, minimum)
            for name, kind, minimum in (("max_attempts", int, 1), ("max_elapsed", float, 0))
            if given(name) is not None
        }
        timeout = given("timeout")
        return cls(
            client_id=conn.login,
            client_secret=conn.password,
            org_id=checked_org_id(given("org_id")),
            sandbox=checked_sandbox(given("sandbox") or "prod"),
            scopes=checked_scopes(given("scopes") or DEFAULT_SCOPES),
            ims_url=checked_url(given("ims_url") or DEFAULT_IMS_URL, "extra ims_url"),
            gateway_url=checked_url(
                conn.host or DEFAULT_GATEWAY_URL, "host (Platform gateway URL)", conn.schema or "https"
            ),
            timeout=60.0
            if timeout is None
            else checked_number(timeout, "timeout", float, 0, inclusive=False),
            retry=RetryPolicy(**retry_args),
        )

    def overridden(self, sandbox: str | None = None, retry: RetryPolicy | None = None) -> AEPSettings:
        """These settings with a hook's own sandbox and retry policy, where it has them."""
        from dataclasses import replace

        overrides: dict[str, Any] = {}
        if sandbox:
            overrides["sandbox"] = checked_sandbox(sandbox, "sandbox")
        if retry:
            overrides["retry"] = retry
        return replace(self, **overrides) if overrides else self

    @functools.cached_property
    def token_key(self) -> str:
        """The token cache key: one token per IMS, client, secret and scopes (the secret hashed);
        worked out once per settings, not at every call."""
        raw = "\0".join((self.ims_url, self.client_id, self.client_secret, self.scopes))
        return hashlib.sha256(raw.encode()).hexdigest()

    def token_form(self) -> dict[str, str]:
        """Form body of the IMS OAuth server-to-server token request."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": self.scopes,
        }

    def url(self, service: str, path: str) -> str:
        """Absolute URL of ``path`` in ``service`` (``flowservice``, ``catalog``, ...).

        ``path`` may also be a ``_links.next.href`` that AEP answered: a path under the service, a
        path from the gateway root, or an absolute URL on the gateway host (any other host is refused,
        so a token is never sent elsewhere).
        """
        if path.startswith(("http://", "https://")):
            if urlsplit(path).netloc != urlsplit(self.gateway_url).netloc:
                raise AEPConfigError(f"refusing to send AEP credentials to another host: {path}")
            return path
        if path.startswith("/data/"):
            return self.gateway_url + path
        try:
            base = SERVICE_PATHS[service]
        except KeyError:
            raise AEPConfigError(
                f"unknown AEP service {service!r}; expected one of {', '.join(SERVICE_PATHS)}"
            ) from None
        return f"{self.gateway_url}{base}/{path.lstrip('/')}"


@dataclass(frozen=True)
class AccessToken:
    """An IMS access token and when it stops being worth using (``time.monotonic()`` seconds)."""

    value: str = field(repr=False)
    renew_at: float
    expires_at: float

    @classmethod
    def from_ims_answer(cls, body: Mapping[str, Any], now: float) -> AccessToken:
        """Read ``{"access_token", "expires_in"}`` (``expires_in`` in seconds; ms if implausibly large)."""
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AEPApiError(200, title="IMS answered without an access_token")
        lifetime = float(body.get("expires_in") or 86399)
        if lifetime > 10 * 86400:  # older IMS versions answered in milliseconds
            lifetime /= 1000
        margin = min(TOKEN_RENEWAL_MARGIN_SECONDS, lifetime / 10)
        return cls(value=token, renew_at=now + lifetime - margin, expires_at=now + lifetime)

    def fresh(self, now: float) -> bool:
        return now < self.renew_at


class TokenCache:
    """Process-wide IMS tokens, one per credential, shared by every hook, sync or async.

    A lock per credential (a thread lock for sync callers, an asyncio lock per event loop for async
    ones) makes concurrent callers wait for one token request instead of each sending their own.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}
        self._guard = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}
        self._async_locks: dict[tuple[str, int], asyncio.Lock] = {}

    def get(self, key: str) -> AccessToken | None:
        token = self._tokens.get(key)
        return token if token is not None and token.fresh(time.monotonic()) else None

    def store(self, key: str, token: AccessToken) -> None:
        self._tokens[key] = token

    def discard(self, key: str, value: str) -> None:
        """Forget the token AEP just refused, unless another caller already replaced it."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def async_lock(self, key: str) -> asyncio.Lock:
        loop_id = id(asyncio.get_running_loop())
        with self._guard:
            return self._async_locks.setdefault((key, loop_id), asyncio.Lock())


TOKENS = TokenCache()


class RequestOptions(TypedDict, total=False):
    """The options of one call, all optional: the keyword arguments of ``AEPHook.request`` and
    ``AEPAsyncHook.request`` (and of their ``get``, ``post``, ...)."""

    json: Any
    """Request body, sent as JSON."""
    params: Params | None
    """Query parameters."""
    headers: Mapping[str, str] | None
    """Extra headers (e.g. ``If-Match``, a Schema Registry ``Accept``); they override the defaults."""
    sandbox: str | None
    """Sandbox for this call only, instead of the hook's."""
    idempotent: bool | None
    """Whether the call may be repeated after a lost answer (default: yes, but not for POST)."""
    retry: RetryPolicy | None
    """Retry policy for this call only."""


@dataclass(frozen=True)
class Decision:
    """What to do after one try: ``return``, ``raise``, ``reauth`` (renew token, retry) or ``wait``."""

    action: str
    delay: float = 0.0
    error: Exception | None = None


class Call:
    """One Platform call, from its first try to its last.

    :param idempotent: whether repeating the call after a lost answer is harmless. Defaults to
        ``True`` for GET, PUT, DELETE and for PATCH (AEP PATCHes carry ``If-Match``, so a repeat
        after success fails with 412 instead of applying twice), ``False`` for POST.
    """

    def __init__(
        self,
        settings: AEPSettings,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        sandbox: str | None = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        form: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.form = form
        self.method = method.upper()
        self.url = url
        self.json_body = json
        self.params = params
        self.extra_headers = dict(headers or {})
        self.sandbox = checked_sandbox(sandbox, "sandbox") if sandbox else settings.sandbox
        self.idempotent = (
            idempotent if idempotent is not None else self.method in IDEMPOTENT_METHODS | {"PATCH"}
        )
        self.retry = retry or settings.retry
        self.attempt = 0
        # an IMS token request (``form``) is not itself authenticated: a 401 there is final
        self.reauthenticated = form is not None
        self.started = time.monotonic()

    @classmethod
    def for_request(
        cls, settings: AEPSettings, method: str, service: str, path: str, **options: Unpack[RequestOptions]
    ) -> Call:
        """The call a hook's ``request(method, service, path, **options)`` makes: ``path`` resolved
        under ``service`` on the connection's gateway (:meth:`AEPSettings.url`), the options as given
        (an unknown option raises ``TypeError``)."""
        return cls(settings, method, settings.url(service, path), **options)

    @property
    def where(self) -> str:
        return urlsplit(self.url).path

    def request_args(self, token: str | None) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request`` of the next try.

        The timeout is this call's own (its connection's ``timeout``), never the client's: clients
        are shared (one per event loop in a triggerer) by hooks whose connections differ.
        """
        self.attempt += 1
        if self.form is not None:
            return {
                "method": self.method,
                "url": self.url,
                "data": dict(self.form),
                "headers": {"User-Agent": user_agent()},
                "timeout": self.settings.timeout,
            }
        headers = {
            "User-Agent": user_agent(),
            "Authorization": f"Bearer {token}",
            "x-api-key": self.settings.client_id,
            "x-gw-ims-org-id": self.settings.org_id,
            "x-sandbox-name": self.sandbox,
            "Accept": "application/json",
        }
        args: dict[str, Any] = {
            "method": self.method,
            "url": self.url,
            "params": self.params,
            "timeout": self.settings.timeout,
        }
        if self.json_body is not None:
            headers["Content-Type"] = "application/json"
            args["content"] = json.dumps(self.json_body).encode()
        headers.update(self.extra_headers)
        args["headers"] = headers
        return args

    def after_response(self, response: httpx.Response) -> Decision:
        status = response.status_code
        if is_success(status):
            return Decision("return")
        if status == 401 and not self.reauthenticated:
            self.reauthenticated = True
            self.attempt -= 1  # a renewed token is not a retry
            return Decision("reauth")
        error = AEPApiError.from_response(
            status,
            response.text,
            method=self.method,
            url=self.where,
            headers=dict(response.headers),
        )
        safe = self.idempotent or status == 429  # a 429 was refused before AEP acted on it
        if status in RETRYABLE_STATUSES and safe:
            return self._wait_or_raise(error, response.headers.get("Retry-After"))
        return Decision("raise", error=error)

    def after_transport_error(self, exc: Exception) -> Decision:
        import httpx

        error = AEPTransportError(
            f"{self.method} {self.where}: no answer from AEP ({type(exc).__name__}: {exc})"
        )
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if self.idempotent or never_sent:
            return self._wait_or_raise(error, None)
        return Decision("raise", error=error)

    def _wait_or_raise(self, error: Exception, retry_after: str | None) -> Decision:
        if self.attempt >= self.retry.max_attempts:
            return Decision("raise", error=error)
        delay = self.retry.delay(self.attempt, retry_after)
        if time.monotonic() - self.started + delay > self.retry.max_elapsed:
            return Decision("raise", error=error)
        return Decision("wait", delay=delay)


def is_success(status: int) -> bool:
    """Only a 2xx is a success; a 3xx (redirects are never followed) raises like any error."""
    return 200 <= status < 300


def parse_body(response: httpx.Response) -> Any:
    """The JSON body of a successful answer, ``None`` when empty (204), the text if not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def token_call(settings: AEPSettings) -> Call:
    """The IMS token request: form-encoded, safe to repeat, never re-authenticated."""
    return Call(
        settings,
        "POST",
        settings.ims_url + IMS_TOKEN_PATH,
        form=settings.token_form(),
        idempotent=True,
    )


def token_from_response(response: httpx.Response) -> AccessToken:
    """Read an IMS token answer, raising a typed error (without the form we sent) on failure."""
    if not is_success(response.status_code):
        raise AEPApiError.from_response(
            response.status_code,
            response.text,
            method="POST",
            url=IMS_TOKEN_PATH,
            headers=dict(response.headers),
        )
    return AccessToken.from_ims_answer(response.json(), time.monotonic())
