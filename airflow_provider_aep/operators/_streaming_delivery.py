"""How ``AEPSendStreamingEventsOperator`` delivers events: read, pack, send concurrently, account.

Imported only when the task runs (it loads ``httpx``), never when a DAG file is parsed.

* **Reading** (:func:`list_items`, :func:`file_items`): each event becomes a :class:`Message` (its
  compact JSON bytes and where it came from: ``events[3]``, ``line 4``) or a :class:`Rejected` item
  (not a JSON object, not encodable, too large), lazily: a JSON-lines file is read line by line.
* **Packing** (:func:`pack`): messages go into ``{"messages":[...]}`` bodies of at most
  ``max_request_bytes`` bytes, measured on the encoded bytes; an event that cannot fit alone is rejected
  at its position, never sent.
* **Sending** (:class:`Sender`): one request per batch, at most ``max_concurrency`` in flight. ``429``
  and ``503`` wait (``Retry-After``, else back-off; every sender pauses) and repeat; a connection never
  established repeats; ``413`` splits the batch in two (AEP took none of it); a lost answer (no answer,
  ``500``/``502``/``504``, an unreadable ``207``) marks the batch's messages *unknown*, or with
  ``on_lost_answer="resend"`` repeats it; any other error stops delivery.
* **Accounting** (:class:`DeliveryReport`): accepted, failed (refused by AEP or rejected here), unknown
  (no answer), not sent (delivery stopped), and the first errors by position.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from airflow_provider_aep.exceptions import AEPApiError, AEPError, AEPTransportError
from airflow_provider_aep.hooks._core import RetryPolicy

#: ``{"messages":[`` + the messages joined by ``,`` + ``]}``: the bytes a batch adds around its messages.
BATCH_OPEN = b'{"messages":['
BATCH_CLOSE = b"]}"
BATCH_OVERHEAD = len(BATCH_OPEN) + len(BATCH_CLOSE)
#: How many errors (the first by position) the report keeps and the task failure names.
FIRST_ERRORS = 10
#: Statuses after which AEP may have ingested the request: the answer is lost, not the request.
LOST_STATUSES = frozenset({500, 502, 504})
#: Statuses AEP documents as "nothing taken, try again later" (streaming-multiple-messages.md).
RETRY_STATUSES = frozenset({429, 503})
#: Transport errors raised before the request could reach AEP: repeating them is always safe.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

OnLostAnswer = Literal["fail", "resend"]


@dataclass(frozen=True, slots=True)
class Message:
    """One event ready to send: its compact JSON bytes and where it came from."""

    position: int
    where: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    """One event that cannot be sent (never reaches AEP), and why."""

    position: int
    where: str
    reason: str


Item = Message | Rejected


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


# Built once: ``json.dumps``/``json.loads`` with options build a new encoder/decoder at every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_not_json)


def encode_event(event: Any) -> bytes:
    """Compact UTF-8 JSON of one event; ``ValueError`` when it is not a JSON object or not encodable."""
    if not isinstance(event, Mapping):
        raise ValueError("not a JSON object")
    try:
        return _ENCODER.encode(event).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as error:
        raise ValueError(f"not encodable as JSON ({type(error).__name__})") from None


def list_items(events: Iterable[Any]) -> Iterator[Item]:
    """The events of a list (or an XCom value), encoded one at a time."""
    for position, event in enumerate(events):
        where = f"events[{position}]"
        try:
            yield Message(position, where, encode_event(event))
        except ValueError as error:
            yield Rejected(position, where, str(error))


def file_items(lines: Iterable[bytes]) -> Iterator[Item]:
    """The events of a JSON-lines file, one per non-blank line, read lazily (``where``: ``line N``).

    A line is sent as it is written (stripped) once it parsed as a JSON object: no re-encoding.
    """
    position = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"line {number}"
        try:
            text = line.decode("utf-8")
            event = _DECODER.decode(text)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
            if _SURROGATE_ESCAPE.search(text):
                line = encode_event(event)  # a lone surrogate cannot be encoded: rejected here
        except UnicodeDecodeError:
            item: Item = Rejected(position, where, "not UTF-8")
        except json.JSONDecodeError as error:
            item = Rejected(position, where, f"not JSON ({error.msg} at column {error.colno})")
        except (ValueError, RecursionError) as error:
            item = Rejected(position, where, str(error) or type(error).__name__)
        else:
            item = Message(position, where, line)
        yield item
        position += 1


def pack(items: Iterable[Item], max_request_bytes: int, batched: bool) -> Iterator[list[Message] | Rejected]:
    """Batches of messages whose request body stays within ``max_request_bytes``, in input order.

    ``batched=False`` (the single-message endpoint): one message per batch, the body being the event.
    A message too large to travel even alone is yielded as :class:`Rejected`.
    """
    batch: list[Message] = []
    size = BATCH_OVERHEAD
    for item in items:
        if isinstance(item, Rejected):
            yield item
            continue
        alone = len(item.data) + (BATCH_OVERHEAD if batched else 0)
        if alone > max_request_bytes:
            yield Rejected(
                item.position,
                item.where,
                f"{len(item.data):,} bytes encoded: a request carries at most {max_request_bytes:,} bytes "
                "(not sent)",
            )
            continue
        if not batched:
            yield [item]
            continue
        added = len(item.data) + (1 if batch else 0)
        if batch and size + added > max_request_bytes:
            yield batch
            batch, size, added = [], BATCH_OVERHEAD, len(item.data)
        batch.append(item)
        size += added
    if batch:
        yield batch


def batch_body(batch: Sequence[Message]) -> bytes:
    """The request body of a batch: ``{"messages":[<event>,<event>...]}``."""
    return BATCH_OPEN + b",".join(message.data for message in batch) + BATCH_CLOSE


def span(batch: Sequence[Message]) -> str:
    """``events[0]..events[41]``: which events a batch holds, for messages."""
    return batch[0].where if len(batch) == 1 else f"{batch[0].where}..{batch[-1].where}"


@dataclass
class BatchOutcome:
    """What became of the messages of one batch (filled by :class:`Sender`)."""

    accepted: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    unknown: list[tuple[int, str, str]] = field(default_factory=list)
    not_sent: int = 0
    requests: int = 0
    error: AEPError | None = None


@dataclass
class DeliveryReport:
    """The account of one delivery, pushed to XCom as :meth:`as_xcom`.

    :param events: events read from the input.
    :param accepted: messages AEP accepted.
    :param failed: messages AEP refused (``400`` in the ``207``, or a request-level ``400``/``413``) or
        that could not be sent at all (not a JSON object, too large).
    :param unknown: messages whose request got no answer: AEP may or may not have ingested them.
    :param not_sent: messages left unsent because delivery stopped on an error.
    :param requests: HTTP requests sent.
    :param errors: ``(position, where, reason)`` of the first failed or unknown messages by position.
    """

    events: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0
    not_sent: int = 0
    requests: int = 0
    seconds: float = 0.0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    stopped_by: AEPError | None = None

    def note(self, position: int, where: str, reason: str) -> None:
        """Keep an error if it is among the first :data:`FIRST_ERRORS` by position."""
        self.errors.append((position, where, reason))
        if len(self.errors) > 5 * FIRST_ERRORS:
            self.errors = sorted(self.errors)[:FIRST_ERRORS]

    def first_errors(self) -> list[tuple[int, str, str]]:
        """The first errors by position."""
        return sorted(self.errors)[:FIRST_ERRORS]

    def add(self, outcome: BatchOutcome) -> None:
        """Account for one batch."""
        self.accepted += outcome.accepted
        self.failed += len(outcome.failed)
        self.unknown += len(outcome.unknown)
        self.not_sent += outcome.not_sent
        self.requests += outcome.requests
        for error in (*outcome.failed, *outcome.unknown):
            self.note(*error)
        if outcome.error is not None and self.stopped_by is None:
            self.stopped_by = outcome.error

    def reject(self, item: Rejected) -> None:
        """Account for an event that could not be sent."""
        self.failed += 1
        self.note(item.position, item.where, item.reason)

    @property
    def may_have_ingested(self) -> bool:
        """Whether AEP may hold some of these events (so sending them again could duplicate them)."""
        return self.accepted > 0 or self.unknown > 0

    def summary(self) -> str:
        """One line: the counts."""
        line = (
            f"{self.accepted:,} of {self.events:,} event(s) accepted, {self.failed:,} failed, "
            f"{self.unknown:,} unknown (no answer)"
        )
        if self.not_sent:
            line += f", {self.not_sent:,} not sent"
        return f"{line}; {self.requests:,} request(s) in {self.seconds:.1f} s"

    def errors_text(self) -> str:
        """The first errors, each with its position: ``events[3]: refused by AEP (400): ...``."""
        return "; ".join(f"{where}: {reason}" for _, where, reason in self.first_errors())

    def as_xcom(self) -> dict[str, Any]:
        """The report as JSON (XCom ``delivery``): counts and the first errors, never event contents."""
        return {
            "events": self.events,
            "accepted": self.accepted,
            "failed": self.failed,
            "unknown": self.unknown,
            "not_sent": self.not_sent,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "first_errors": [{"where": where, "error": reason} for _, where, reason in self.first_errors()],
        }


def _reason(response: httpx.Response, path: str) -> str:
    """A one-line reason for a request-level refusal (AEP's own message, no event content)."""
    error = AEPApiError.from_response(
        response.status_code, response.text, method="POST", url=path, headers=dict(response.headers)
    )
    return f"refused by AEP with the whole request ({error})"


def _item_results(answer: Any, count: int) -> list[Any] | None:
    """The ``responses`` of a ``207`` body, if it has one element per message; else ``None``."""
    if not isinstance(answer, dict):
        return None
    responses = answer.get("responses")
    if not isinstance(responses, list) or len(responses) != count:
        return None
    return responses


class _Body(httpx.SyncByteStream):
    """One request body, let go of as soon as its answer is in (:meth:`release`).

    httpx keeps each answer in a reference cycle (the response and its stream) that holds the request,
    and so its body, until Python's cycle collector runs: without letting go, the 1 MB bodies of a long
    delivery stayed in memory by the dozen, and the sender's memory grew request after request.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data

    def release(self) -> None:
        self._data = b""


class Sender:
    """Sends batches to one inlet endpoint; thread-safe, one instance shared by every worker.

    :param client: the HTTP client (its pool is shared by the workers).
    :param url: the endpoint (``/collection/batch/{id}``, or ``/collection/{id}`` when not ``batched``).
    :param headers: request headers.
    :param params: query parameters (``syncValidation``).
    :param batched: ``{"messages": [...]}`` bodies answered ``207``; else one event per request (``200``).
    :param policy: tries and back-off for ``429``/``503`` and connections never established.
    :param on_lost_answer: ``fail`` (mark the batch unknown) or ``resend`` (repeat it).
    :param warn: logs one warning line.
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        batched: bool,
        policy: RetryPolicy,
        on_lost_answer: OnLostAnswer,
        warn: Callable[..., None],
    ) -> None:
        self.client = client
        self.url = url
        self.path = httpx.URL(url).path
        self.headers = dict(headers)
        self.params = dict(params) if params else None
        self.batched = batched
        self.policy = policy
        self.on_lost_answer = on_lost_answer
        self.warn = warn
        self._resume_at = 0.0
        self._lock = threading.Lock()

    def _pause(self, seconds: float) -> None:
        """Make every sender wait ``seconds`` before its next request (AEP asked to slow down)."""
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def _wait_for_resume(self) -> None:
        while True:
            with self._lock:
                delay = self._resume_at - time.monotonic()
            if delay <= 0:
                return
            time.sleep(delay)

    def send(self, batch: list[Message]) -> BatchOutcome:
        """Deliver one batch (split on ``413``); errors that stop delivery go to ``outcome.error``."""
        outcome = BatchOutcome()
        pending = [batch]
        while pending:
            part = pending.pop()
            try:
                halves = self._send_part(part, outcome)
            except AEPError as error:
                outcome.error = error
                outcome.not_sent = len(part) + sum(len(rest) for rest in pending)
                return outcome
            pending.extend(reversed(halves))
        return outcome

    def _send_part(self, part: list[Message], outcome: BatchOutcome) -> list[list[Message]]:
        """Send ``part`` until it has an outcome; return the halves to send instead after a ``413``."""
        body = batch_body(part) if self.batched else part[0].data
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_resume()
            outcome.requests += 1
            try:
                response = self._post(body)
            except NOT_SENT_ERRORS as error:
                if attempt >= self.policy.max_attempts:
                    raise AEPTransportError(
                        f"POST {self.path}: no connection to the inlet after {attempt} tries "
                        f"({type(error).__name__})"
                    ) from None
                delay = self.policy.backoff(attempt)
                self.warn("%s: no connection (try %d); retrying in %.1f s", span(part), attempt, delay)
                time.sleep(delay)
                continue
            except httpx.TransportError as error:
                lost = f"no answer ({type(error).__name__})"
            else:
                status = response.status_code
                if status in RETRY_STATUSES:
                    if attempt >= self.policy.max_attempts:
                        raise AEPApiError.from_response(
                            status,
                            response.text,
                            method="POST",
                            url=self.path,
                            headers=dict(response.headers),
                        )
                    delay = self.policy.delay(attempt, response.headers.get("Retry-After"))
                    self._pause(delay)
                    self.warn(
                        "%s: the inlet answered %d (try %d); retrying in %.1f s",
                        span(part),
                        status,
                        attempt,
                        delay,
                    )
                    continue
                if status == 413 and len(part) > 1:
                    half = len(part) // 2
                    self.warn("%s: the inlet answered 413; splitting it in two", span(part))
                    return [part[:half], part[half:]]
                if status in (400, 413):
                    reason = _reason(response, self.path)
                    outcome.failed.extend((m.position, m.where, reason) for m in part)
                    return []
                if status in LOST_STATUSES:
                    lost = f"answer {status} (AEP may have ingested it)"
                elif self.batched and status == 207:
                    if self._read_207(response, part, outcome):
                        return []
                    lost = "an unreadable 207 answer"
                elif not self.batched and status == 200:
                    outcome.accepted += 1
                    return []
                else:
                    raise AEPApiError.from_response(
                        status, response.text, method="POST", url=self.path, headers=dict(response.headers)
                    )
            if self.on_lost_answer == "resend" and attempt < self.policy.max_attempts:
                delay = self.policy.backoff(attempt)
                self.warn(
                    "%s: %s; resending it in %.1f s (on_lost_answer='resend': it may be ingested twice)",
                    span(part),
                    lost,
                    delay,
                )
                time.sleep(delay)
                continue
            reason = f"{lost}: may or may not have been ingested; not resent"
            if self.on_lost_answer == "resend":
                reason = f"{lost} after {attempt} tries: may or may not have been ingested"
            self.warn("%s: %s", span(part), reason)
            outcome.unknown.extend((m.position, m.where, reason) for m in part)
            return []

    def _post(self, body: bytes) -> httpx.Response:
        """POST ``body`` and read the answer; the request lets go of the body then (:class:`_Body`)."""
        stream = _Body(body)
        request = self.client.build_request("POST", self.url, headers=self.headers, params=self.params)
        request.headers["Content-Length"] = str(len(body))
        request.stream = stream
        try:
            return self.client.send(request)
        finally:
            stream.release()

    @staticmethod
    def _read_207(response: httpx.Response, part: list[Message], outcome: BatchOutcome) -> bool:
        try:
            results = _item_results(response.json(), len(part))
        except ValueError:
            results = None
        if results is None:
            return False
        for message, result in zip(part, results, strict=True):
            if isinstance(result, dict) and result.get("xactionId"):
                outcome.accepted += 1
            elif isinstance(result, dict) and "statusCode" in result:
                text = str(result.get("message") or "")[:300]
                reason = f"refused by AEP ({result.get('statusCode')}): {text}"
                outcome.failed.append((message.position, message.where, reason))
            else:
                outcome.unknown.append(
                    (message.position, message.where, "no status in the 207 answer: may have been ingested")
                )
        return True


def deliver(
    items: Iterable[Item],
    sender: Sender,
    *,
    max_request_bytes: int,
    max_concurrency: int,
    progress: Callable[[DeliveryReport], None] | None = None,
) -> DeliveryReport:
    """Pack ``items`` and send the batches, at most ``max_concurrency`` at a time, in input order.

    Memory stays bounded: the input is read as batches are needed, and at most ``max_concurrency``
    batches are in flight plus the one being packed. The first error that stops delivery stops
    reading and packing; batches in flight finish first.
    """
    report = DeliveryReport()
    started = time.monotonic()
    in_flight: set[Future[BatchOutcome]] = set()

    def settle(done: Iterable[Future[BatchOutcome]]) -> None:
        for future in done:
            in_flight.discard(future)
            report.add(future.result())
        report.seconds = time.monotonic() - started
        if progress is not None:
            progress(report)

    with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="aep-streaming") as pool:
        for batch in pack(items, max_request_bytes, sender.batched):
            if isinstance(batch, Rejected):
                report.events += 1
                report.reject(batch)
                continue
            report.events += len(batch)
            settle([future for future in in_flight if future.done()])
            while len(in_flight) >= max_concurrency:
                settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
            if report.stopped_by is not None:
                report.not_sent += len(batch)
                break
            in_flight.add(pool.submit(sender.send, batch))
        settle(wait(in_flight).done)
    report.seconds = time.monotonic() - started
    return report
