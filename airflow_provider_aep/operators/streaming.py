"""Streaming ingestion: send events to a dataflow's streaming inlet (seed 000, Shopify).

Events go through AEP's batch endpoint, ``POST /collection/batch/{CONNECTION_ID}``
(help/ingestion/tutorials/streaming-multiple-messages.md): many events per request, several requests
in flight. The sending itself lives in ``_streaming_delivery`` and is imported when the task runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_aep.exceptions import AEPConfigError, AEPError
from airflow_provider_aep.operators.base import AEPBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, XComArg

    from airflow_provider_aep.operators._streaming_delivery import DeliveryReport

#: Adobe: "Payload too large - thrown when the total payload request is greater than 1MB". Whether
#: that MB is 10^6 or 2^20 bytes is not said, so requests stay within 10^6 by default.
DEFAULT_MAX_REQUEST_BYTES = 1_000_000
MAX_REQUEST_BYTES_LIMIT = 1024 * 1024
ON_LOST_ANSWER_CHOICES = ("fail", "resend")
#: XCom key of the delivery report (counts and first errors, never event contents).
XCOM_DELIVERY = "delivery"
#: An ``events_path`` file is read this much at a time: a read that waits for the disk lets the
#: sending threads take the interpreter, and getting it back costs up to a switch interval (5 ms), so
#: with 8 KiB reads (about two 4 KB events) the reading fell behind the sending.
READ_BUFFER_BYTES = 1024 * 1024


class AEPStreamingDeliveryError(AEPError):
    """Not every event was delivered as asked: too many failed or unknown, or delivery stopped.

    ``report`` is the delivery report (``DeliveryReport``): counts and the first errors by position.
    """

    def __init__(self, message: str, report: DeliveryReport) -> None:
        super().__init__(message)
        self.report = report


class AEPStreamingDeliveryFailed(AEPStreamingDeliveryError, AirflowFailException):
    """An :class:`AEPStreamingDeliveryError` after which AEP may already hold some of the events:
    the task fails without Airflow retries, since a retry would send them all again (at-most-once)."""


class AEPSendStreamingEventsOperator(AEPBaseOperator):
    """Send events to a streaming inlet through AEP's batch endpoint, several requests at a time.

    The inlet URL is what ``AEPGetDataflowOperator`` pushes as ``inlet_url``
    (``https://dcs.adobedc.net/collection/<inlet id>``); events go to
    ``/collection/batch/<inlet id>`` as ``{"messages": [...]}``, packed up to ``max_request_bytes``
    (AEP refuses requests over 1 MB), ``max_concurrency`` requests in flight. Each event is one message,
    sent as given: a webhook source's own JSON (a Shopify order) or an XDM message ``{header, body}``.
    AEP answers ``207`` with one status per message; refused messages are counted and reported with their
    position (``events[3]``, ``line 4``). Unauthenticated inlets (webhook sources) take no credentials;
    for an authenticated inlet set ``authenticated=True`` and the ``aep`` connection's token and headers
    are sent.

    **Events** come from exactly one of: ``events`` (a JSON object, a list of them, or an upstream
    task's ``.output``: resolved when the task runs and never rendered, so a large list is not copied
    into Airflow's rendered fields) or ``events_path`` (a JSON-lines file, one object per line, read
    lazily: memory stays at about ``max_concurrency + 1`` requests whatever the file size). An event
    that cannot be sent (not a JSON object, over the request limit alone) is a failed message at its
    position; it is never sent.

    **Retries.** ``429`` and ``503`` are repeated after ``Retry-After`` (else exponential back-off),
    every request in flight pausing, at most ``max_attempts`` tries: Adobe documents both as "not taken,
    retry" (503: "retry at least 3 times using an exponential back-off strategy"). A ``413`` splits the
    request in two. A connection that was never established is repeated.

    **Delivery guarantee: at-most-once by default.** When a request gets no answer (the connection
    drops, a timeout, ``500``/``502``/``504``, an unreadable ``207``) AEP may or may not have ingested
    its events, so they are never silently sent again: they are reported as *unknown* and count as
    failed for the thresholds below (by default the task fails). ``on_lost_answer="resend"`` chooses
    at-least-once instead: such a request is sent again (at most ``max_attempts`` tries), so its events
    may be ingested twice. For the same reason, when the task fails after AEP may have taken some events
    (in the default mode) it raises :class:`AEPStreamingDeliveryFailed`, which fails the task without
    Airflow retries: a retry would send every event again.

    **Failed messages** (refused by AEP, not sendable, or unknown) fail the task unless tolerated:
    ``max_failed_messages`` (at most this many) and/or ``max_failed_ratio`` (at most this fraction of
    the events); each one given must hold, and with neither given no failure is tolerated. The error
    names the counts and the first errors with their positions.

    ``sync_validation=True`` uses the single-message endpoint instead (``POST /collection/<inlet id>
    ?syncValidation=true``, one event per request: Adobe offers synchronous validation only there,
    limited to 60 requests per minute); everything else above holds.

    Event contents are never logged, pushed to XCom or put in an error.

    XCom: return value = the number of events AEP accepted; ``delivery`` = the report (``events``,
    ``accepted``, ``failed``, ``unknown``, ``not_sent``, ``requests``, ``seconds``, ``first_errors``).

    :param inlet_url: the streaming inlet URL, e.g.
        ``{{ ti.xcom_pull('get_flow', key='inlet_url') }}`` (templated).
    :param events: one event (a JSON object, e.g. a Shopify order webhook body), a list of them, or an
        upstream task's ``.output`` holding either (not templated).
    :param events_path: a JSON-lines file of events, one JSON object per line (templated).
    :param authenticated: send the AEP token and headers (authenticated inlets only).
    :param sync_validation: send each event alone with ``syncValidation=true``.
    :param max_request_bytes: most bytes in one request body (1024 .. 1,048,576).
    :param max_concurrency: most requests in flight (1 .. 64).
    :param max_failed_messages: most failed (or unknown) messages tolerated.
    :param max_failed_ratio: most failed (or unknown) messages tolerated, as a fraction of the events.
    :param on_lost_answer: ``fail`` (at-most-once) or ``resend`` (at-least-once).
    :param max_attempts: tries per request on 429/503, connections never established, and (with
        ``resend``) lost answers.
    :param timeout: seconds per request.
    """

    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "inlet_url", "events_path")

    def __init__(
        self,
        *,
        inlet_url: str,
        events: Mapping[str, Any] | Sequence[Mapping[str, Any]] | XComArg | None = None,
        events_path: str | None = None,
        authenticated: bool = False,
        sync_validation: bool = False,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        max_concurrency: int = 4,
        max_failed_messages: int | None = None,
        max_failed_ratio: float | None = None,
        on_lost_answer: Literal["fail", "resend"] = "fail",
        max_attempts: int = 5,
        timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (events is None) == (events_path is None):
            raise AEPConfigError("events, events_path: give exactly one of them")
        _check_int("max_attempts", max_attempts, 1, 100)
        _check_int("max_request_bytes", max_request_bytes, 1024, MAX_REQUEST_BYTES_LIMIT)
        _check_int("max_concurrency", max_concurrency, 1, 64)
        if max_failed_messages is not None:
            _check_int("max_failed_messages", max_failed_messages, 0, None)
        if max_failed_ratio is not None and (
            isinstance(max_failed_ratio, bool)
            or not isinstance(max_failed_ratio, int | float)
            or not 0 <= max_failed_ratio <= 1
        ):
            raise AEPConfigError(f"max_failed_ratio: must be a number from 0 to 1, got {max_failed_ratio!r}")
        if on_lost_answer not in ON_LOST_ANSWER_CHOICES:
            raise AEPConfigError(
                f"on_lost_answer: must be one of {ON_LOST_ANSWER_CHOICES}, got {on_lost_answer!r}"
            )
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout > 0:
            raise AEPConfigError(f"timeout: must be a positive number of seconds, got {timeout!r}")
        self.inlet_url = inlet_url
        self.events = events
        self.events_path = events_path
        self.authenticated = authenticated
        self.sync_validation = sync_validation
        self.max_request_bytes = max_request_bytes
        self.max_concurrency = max_concurrency
        self.max_failed_messages = max_failed_messages
        self.max_failed_ratio = max_failed_ratio
        self.on_lost_answer = on_lost_answer
        self.max_attempts = max_attempts
        self.timeout = timeout
        if _is_xcom_arg(events):
            # ``events`` is no template field (a large list must not be rendered), so the upstream
            # relationship Airflow sets for template fields is set here.
            from airflow.sdk.definitions.xcom_arg import XComArg

            XComArg.apply_upstream_relationship(self, events)

    # -- inputs -------------------------------------------------------------------------------

    def checked_events(self, context: Context | None = None) -> Sequence[Any]:
        """The events as a sequence of JSON objects (an XCom value resolved); fails naming the field."""
        events: Any = self.events
        if _is_xcom_arg(events):
            if context is None:
                raise AEPConfigError("events: an upstream .output is only resolved when the task runs")
            events = events.resolve(context)
        if isinstance(events, Mapping):
            events = [events]
        if isinstance(events, str | bytes) or not isinstance(events, Sequence) or not events:
            raise AEPConfigError(
                "events: must be a JSON object, a non-empty list of JSON objects or an upstream .output "
                "holding one (use events_path for a file)"
            )
        for index, event in enumerate(events):
            if not isinstance(event, Mapping):
                raise AEPConfigError(f"events[{index}]: must be a JSON object")
        return events

    def checked_url(self) -> str:
        """The inlet URL as given, checked: ``http(s)``, ``https`` unless on loopback."""
        url = str(self.inlet_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AEPConfigError("inlet_url: must be an http(s) URL (the dataflow's inlet_url)")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise AEPConfigError("inlet_url: must use https (plain http is only accepted on loopback)")
        return url

    def endpoint_url(self) -> str:
        """Where the requests go: ``.../collection/batch/<id>``, or the inlet itself for sync validation."""
        url = self.checked_url()
        parts = urlsplit(url)
        segments = parts.path.rstrip("/").split("/")
        if len(segments) >= 3 and segments[-3:-1] == ["collection", "batch"]:
            inlet_id, base = segments[-1], segments[:-3]
        elif len(segments) >= 2 and segments[-2] == "collection" and segments[-1]:
            inlet_id, base = segments[-1], segments[:-2]
        else:
            raise AEPConfigError("inlet_url: must end with /collection/<inlet id> (the dataflow's inlet_url)")
        tail = ["collection", inlet_id] if self.sync_validation else ["collection", "batch", inlet_id]
        return urlunsplit((parts.scheme, parts.netloc, "/".join([*base, *tail]), parts.query, ""))

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

    # -- run ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> int:
        import contextlib

        import httpx

        from airflow_provider_aep.hooks._core import RetryPolicy
        from airflow_provider_aep.operators._streaming_delivery import Sender, deliver, file_items, list_items

        url = self.endpoint_url()
        with contextlib.ExitStack() as stack:
            items: Any
            if self.events_path is not None:
                path = str(self.events_path or "").strip()
                try:
                    stream = stack.enter_context(open(path, "rb", buffering=READ_BUFFER_BYTES))
                except OSError as error:
                    raise AEPConfigError(f"events_path: cannot read {path!r} ({error.strerror})") from None
                items = file_items(stream)
            else:
                items = list_items(self.checked_events(context))
            client = stack.enter_context(
                httpx.Client(
                    timeout=self.timeout,
                    limits=httpx.Limits(
                        max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency
                    ),
                )
            )
            sender = Sender(
                client,
                url,
                self.headers(),
                {"syncValidation": "true"} if self.sync_validation else None,
                batched=not self.sync_validation,
                policy=RetryPolicy(max_attempts=self.max_attempts),
                on_lost_answer=self.on_lost_answer,
                warn=self.log.warning,
            )
            report = deliver(
                items,
                sender,
                max_request_bytes=self.max_request_bytes,
                max_concurrency=self.max_concurrency,
                progress=_Progress(self.log.info),
            )
        self.push(context, {XCOM_DELIVERY: report.as_xcom()})
        self.log.info("AEP streaming: %s", report.summary())
        self.raise_if_not_delivered(report)
        return report.accepted

    def raise_if_not_delivered(self, report: DeliveryReport) -> None:
        """Fail when delivery stopped on an error or more messages failed than tolerated."""
        failed = report.failed + report.unknown
        problem = None
        if report.stopped_by is not None:
            rest = " (the rest of the input was not read)" if report.not_sent else ""
            problem = f"delivery stopped: {report.stopped_by}{rest}"
        elif failed and not self.tolerated(failed, report.events):
            problem = f"{failed:,} failed or unknown message(s) are more than {self.tolerance()}"
        if problem is None:
            if failed:
                self.log.warning(
                    "AEP streaming: tolerated %d failed message(s): %s", failed, report.errors_text()
                )
            return
        message = f"AEP streaming: {report.summary()}; {problem}"
        if report.errors:
            message += f". First errors: {report.errors_text()}"
        error_class = AEPStreamingDeliveryError
        if self.on_lost_answer == "fail" and report.may_have_ingested:
            error_class = AEPStreamingDeliveryFailed
            message += ". Not retried: AEP may already hold some of these events"
        raise error_class(message, report) from report.stopped_by

    def tolerated(self, failed: int, total: int) -> bool:
        """Whether ``failed`` of ``total`` messages is within every threshold given (none given: 0)."""
        if self.max_failed_messages is None and self.max_failed_ratio is None:
            return failed == 0
        if self.max_failed_messages is not None and failed > self.max_failed_messages:
            return False
        return self.max_failed_ratio is None or failed <= self.max_failed_ratio * total

    def tolerance(self) -> str:
        given = [
            f"{name}={value}"
            for name, value in (
                ("max_failed_messages", self.max_failed_messages),
                ("max_failed_ratio", self.max_failed_ratio),
            )
            if value is not None
        ]
        return (
            " and ".join(given) if given else "tolerated (none: set max_failed_messages or max_failed_ratio)"
        )


class _Progress:
    """Logs the counts at most every 30 s while a long delivery runs."""

    def __init__(self, info: Any, every: float = 30.0) -> None:
        import time

        self._info = info
        self._every = every
        self._clock = time.monotonic
        self._next = self._clock() + every

    def __call__(self, report: DeliveryReport) -> None:
        if self._clock() >= self._next:
            self._next = self._clock() + self._every
            self._info("AEP streaming so far: %s", report.summary())


def _is_xcom_arg(value: Any) -> bool:
    from airflow.sdk.definitions.xcom_arg import XComArg

    return isinstance(value, XComArg)


def _check_int(name: str, value: Any, low: int, high: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
        raise AEPConfigError(f"{name}: must be an integer {bounds}, got {value!r}")
