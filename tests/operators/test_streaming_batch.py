"""``AEPSendStreamingEventsOperator`` over real HTTP against the emulator's batch endpoint.

Packing at the request limit, per-message failures and their thresholds, 429/413/503 handling, lost
answers (at-most-once by default, at-least-once on request), bounded concurrency, a 20,000-event
JSON-lines file read lazily, and the records counted in the flow's run.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.recording import RECORD_ENV
from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPApiError, AEPConfigError
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators import AEPSendStreamingEventsOperator
from airflow_provider_aep.operators.streaming import AEPStreamingDeliveryError, AEPStreamingDeliveryFailed
from tests.operators.helpers import make_context, run
from tests.operators.tutorials import Tutorial, shopify_streaming

BATCH_PATH = "/collection/batch/"
FLOW = "/data/foundation/flowservice"


class Inlet:
    """A Shopify streaming dataflow (seed 000) and its inlet, made by the operators."""

    def __init__(self, emulator: RunningEmulator) -> None:
        tutorial = Tutorial("000")
        self.ids = shopify_streaming(tutorial, send_events=False)
        self.url: str = tutorial.xcom["get_dataflow"]["inlet_url"]
        self.emulator = emulator

    def records(self) -> int:
        """Records the inlet counted (the flow's streaming run)."""
        return int(self.emulator.state()["prod"]["inlets"][0]["records"])

    def batch_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.emulator.requests() if r["path"].startswith(BATCH_PATH)]


@pytest.fixture
def inlet(aep: RunningEmulator) -> Inlet:
    return Inlet(aep)


def order(number: int, size: int = 200) -> dict[str, Any]:
    """A Shopify-like order of about ``size`` bytes encoded."""
    return {"id": number, "email": f"buyer{number}@example.com", "note": "x" * max(0, size - 60)}


def xdm(org: str) -> dict[str, Any]:
    """An XDM message whose header names ``org`` (a wrong org is refused per message)."""
    return {"header": {"imsOrgId": org}, "body": {"xdmEntity": {"person": {"name": {"firstName": "J"}}}}}


def send(inlet: Inlet, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    operator = AEPSendStreamingEventsOperator(task_id="send", inlet_url=inlet.url, **kwargs)
    return run(operator)


class Recorded:
    """The requests the emulator recorded (``AEP_EMULATOR_RECORD``) from now on, with their body sizes."""

    def __init__(self) -> None:
        self.path = Path(os.environ[RECORD_ENV])
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def batch_bodies(self) -> list[int]:
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            lines = [json.loads(line) for line in stream if line.strip()]
        return [line["body_bytes"] for line in lines if line["path"].startswith(BATCH_PATH)]


def test_events_are_packed_up_to_the_request_limit_and_never_over_it(inlet: Inlet) -> None:
    recorded = Recorded()
    events = [order(number, size=700 + (number * 37) % 900) for number in range(3000)]
    accepted, pushed = send(inlet, events=events)
    assert accepted == 3000
    assert inlet.records() == 3000
    # Greedy packing in input order: a request takes the next event unless it would exceed the limit.
    limit, overhead = 1_000_000, len(b'{"messages":[]}')
    expected, size = [], overhead
    for encoded in (len(json.dumps(event, separators=(",", ":")).encode()) for event in events):
        if size > overhead and size + 1 + encoded > limit:
            expected.append(size)
            size = overhead
        size += encoded + (1 if size > overhead else 0)
    expected.append(size)
    sizes = recorded.batch_bodies()  # as the emulator received them (several in flight: any order)
    assert sorted(sizes) == sorted(expected)
    assert max(sizes) <= limit
    assert len(sizes) == pushed["delivery"]["requests"] == len(expected) >= 3
    assert sorted(sizes)[1] > limit - 1_700  # full requests are full: no event of the next one fits


def test_an_event_over_the_limit_alone_fails_naming_its_position(inlet: Inlet) -> None:
    events = [order(0), order(1), order(2, size=1_100_000), order(3)]
    with pytest.raises(AEPStreamingDeliveryFailed) as raised:
        send(inlet, events=events)
    message = str(raised.value)
    assert "3 of 4 event(s) accepted, 1 failed" in message
    assert re.search(
        r"events\[2\]: 1,\d{3},\d{3} bytes encoded: a request carries at most 1,000,000 bytes", message
    )
    assert "Not retried" in message
    assert "buyer2@example.com" not in message
    assert "xxxx" not in message
    assert inlet.records() == 3  # the others went; the big one was never sent
    assert len(inlet.batch_requests()) == 1
    accepted, pushed = send(inlet, events=events, max_failed_messages=1)
    assert accepted == 3
    assert pushed["delivery"]["first_errors"][0]["where"] == "events[2]"


def test_refused_messages_fail_the_task_with_counts_and_first_errors(inlet: Inlet) -> None:
    org = inlet.emulator.settings.org_id
    events: list[dict[str, Any]] = [order(n) for n in range(100)]
    events[17] = xdm("invalidIMSOrg@AdobeOrg")
    events[5] = {"header": {"imsOrgId": org}}  # no body: unknown xdm format
    events[60] = xdm(org)  # a valid XDM message passes
    with pytest.raises(AEPStreamingDeliveryFailed) as raised:
        send(inlet, events=events, max_request_bytes=4096)
    message = str(raised.value)
    assert "98 of 100 event(s) accepted, 2 failed, 0 unknown" in message
    assert "more than tolerated (none" in message
    first, second = message.split("First errors: ")[1].split("; ")[:2]
    assert first.startswith("events[5]: refused by AEP (400): inletId: [")
    assert "unknown xdm format" in first
    assert second.startswith("events[17]: refused by AEP (400):")
    assert "wrong ims org" in second
    report = raised.value.report
    assert (report.accepted, report.failed, report.unknown) == (98, 2, 0)
    assert inlet.records() == 98


@pytest.mark.parametrize(
    ("tolerance", "passes"),
    [
        ({"max_failed_messages": 2}, True),
        ({"max_failed_messages": 1}, False),
        ({"max_failed_ratio": 0.02}, True),
        ({"max_failed_ratio": 0.019}, False),
        ({"max_failed_messages": 5, "max_failed_ratio": 0.01}, False),  # each given bound must hold
    ],
)
def test_thresholds_tolerate_failed_messages(inlet: Inlet, tolerance: dict[str, Any], passes: bool) -> None:
    events = [order(n) for n in range(100)]
    events[3] = events[90] = xdm("invalidIMSOrg@AdobeOrg")
    operator = AEPSendStreamingEventsOperator(task_id="send", inlet_url=inlet.url, events=events, **tolerance)
    context: Any = make_context()
    if passes:
        assert operator.execute(context) == 98
    else:
        with pytest.raises(AEPStreamingDeliveryFailed, match="2 failed or unknown message"):
            operator.execute(context)
    assert context["ti"].pushed["delivery"]["failed"] == 2  # pushed either way


def test_429_retry_after_is_honoured(inlet: Inlet) -> None:
    inlet.emulator.add_faults([{"path": BATCH_PATH, "method": "POST", "status": 429, "retry_after": 1}])
    started = time.monotonic()
    accepted, pushed = send(inlet, events=[order(n) for n in range(10)], max_concurrency=1)
    assert accepted == 10
    assert inlet.records() == 10
    assert time.monotonic() - started >= 1.0
    first, second = inlet.batch_requests()
    assert (first["status"], second["status"]) == (429, 207)
    assert second["time"] - first["time"] >= 0.99
    assert pushed["delivery"]["requests"] == 2


def test_the_emulator_rate_limit_slows_concurrent_senders_down(inlet: Inlet) -> None:
    inlet.emulator.configure(streaming_rate_limit_per_second=3)
    started = time.monotonic()
    events = [order(n, size=1500) for n in range(60)]
    accepted, _ = send(inlet, events=events, max_request_bytes=8192, max_attempts=20)
    elapsed = time.monotonic() - started
    statuses = [r["status"] for r in inlet.batch_requests()]
    assert accepted == 60
    assert inlet.records() == 60
    assert statuses.count(207) == 12
    assert 429 in statuses
    assert elapsed >= 3.0  # 12 requests at 3 a second: at least three one-second windows waited out


def test_503_is_repeated_and_a_persistent_one_stops_delivery(inlet: Inlet) -> None:
    inlet.emulator.add_faults([{"path": BATCH_PATH, "status": 503, "retry_after": 0}])
    assert send(inlet, events=[order(1)])[0] == 1
    inlet.emulator.add_faults([{"path": BATCH_PATH, "status": 503, "retry_after": 0, "times": 3}])
    with pytest.raises(AEPStreamingDeliveryError) as raised:
        send(inlet, events=[order(2)], max_attempts=3)
    assert not isinstance(raised.value, AEPStreamingDeliveryFailed)  # nothing taken: Airflow may retry
    assert "delivery stopped" in str(raised.value)
    assert "503" in str(raised.value)
    assert isinstance(raised.value.__cause__, AEPApiError)
    assert inlet.records() == 1


def test_413_splits_the_request(inlet: Inlet) -> None:
    inlet.emulator.add_faults([{"path": BATCH_PATH, "status": 413}])
    accepted, _ = send(inlet, events=[order(n) for n in range(10)], max_concurrency=1)
    assert accepted == 10
    assert inlet.records() == 10
    assert [r["status"] for r in inlet.batch_requests()] == [413, 207, 207]
    # One event AEP still finds too large is that event's failure, not the others'.
    inlet.emulator.add_faults([{"path": BATCH_PATH, "status": 413, "times": 2}])
    with pytest.raises(
        AEPStreamingDeliveryFailed, match=r"events\[0\]: refused by AEP with the whole request"
    ):
        send(inlet, events=[order(0), order(1)], max_concurrency=1)
    assert inlet.records() == 11


LOST = {"path": BATCH_PATH, "method": "POST", "after_commit": True, "drop_connection": True}


def test_a_lost_answer_is_not_resent_by_default(inlet: Inlet) -> None:
    inlet.emulator.add_faults([LOST])
    events = [order(n, size=900) for n in range(3000)]  # three requests
    with pytest.raises(AEPStreamingDeliveryFailed) as raised:
        send(inlet, events=events, max_concurrency=1)
    report = raised.value.report
    lost = report.unknown
    assert lost > 0
    assert report.accepted + lost == 3000
    assert report.failed == 0
    assert f"{lost:,} unknown (no answer)" in str(raised.value)
    assert "events[0]: no answer (RemoteProtocolError): may or may not have been ingested; not resent" in str(
        raised.value
    )
    assert inlet.records() == 3000  # AEP did ingest the lost batch, once: it was not sent again
    assert len(inlet.batch_requests()) == 3
    # Tolerating them is an explicit choice.
    inlet.emulator.add_faults([LOST])
    accepted, pushed = send(inlet, events=events, max_concurrency=1, max_failed_messages=lost)
    assert accepted == 3000 - lost
    assert pushed["delivery"]["unknown"] == lost


def test_a_lost_answer_is_resent_when_asked_at_least_once(inlet: Inlet) -> None:
    inlet.emulator.add_faults([LOST])
    events = [order(n, size=900) for n in range(3000)]
    accepted, pushed = send(inlet, events=events, max_concurrency=1, on_lost_answer="resend")
    assert accepted == 3000
    assert pushed["delivery"]["unknown"] == 0
    assert len(inlet.batch_requests()) == 4
    assert 3000 < inlet.records() < 6000  # the lost batch was ingested twice: at-least-once


def test_requests_are_sent_concurrently_up_to_max_concurrency(inlet: Inlet) -> None:
    inlet.emulator.add_faults([{"path": BATCH_PATH, "delay_ms": 300, "times": 12}])
    started = time.monotonic()
    accepted, _ = send(inlet, events=[order(n, size=3000) for n in range(24)], max_request_bytes=6100)
    assert accepted == 24
    # (the end as the emulator logged it, less 50 ms: the next request may arrive before it logs the end)
    spans = [(r["time"], r["time"] + r["duration_ms"] / 1000 - 0.05) for r in inlet.batch_requests()]
    assert len(spans) == 12
    overlap = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlap == 4
    assert time.monotonic() - started < 12 * 0.3  # not one after the other


def test_a_jsonl_file_of_20000_events_is_streamed_with_bounded_memory(inlet: Inlet, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for number in range(20_000):
            stream.write(json.dumps(order(number, size=400)) + "\n")
            if number % 5000 == 0:
                stream.write("\n")  # blank lines are skipped
    size = path.stat().st_size
    assert size > 7_500_000
    operator = AEPSendStreamingEventsOperator(
        task_id="send", inlet_url=inlet.url, events_path=str(path), max_request_bytes=16_384
    )
    tracemalloc.start()
    try:
        accepted, pushed = run(operator)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert accepted == 20_000
    # Memory follows the requests in flight (4, and 1 being packed, of 16 KiB), not the 8 MB file. The
    # emulator runs in this process, so its parsing and request log count too (1.7 MB measured); reading
    # the whole file first measured 11.7 MB.
    assert peak < 4_000_000, f"peak {peak:,} bytes for a {size:,} byte file"
    assert pushed["delivery"]["requests"] == len(inlet.batch_requests()) > 100
    inlet.emulator.advance_clock(2)
    runs = AEPHook().get("flowservice", "/runs", params={"property": f"flowId=={inlet.ids['flow']}"})
    assert runs["items"][0]["metrics"]["recordSummary"]["inputRecordCount"] == 20_000


def test_request_bodies_are_let_go_of_once_answered(inlet: Inlet) -> None:
    """httpx keeps each answer in a reference cycle that holds its request: the sender lets go of each
    body once answered, so bodies do not pile up until Python's cycle collector runs (they did: a
    million events grew the sender by 75 MiB, 15 MiB since)."""
    events = [order(number, size=2000) for number in range(600)]
    operator = AEPSendStreamingEventsOperator(
        task_id="send", inlet_url=inlet.url, events=events, max_request_bytes=65_536
    )
    gc.disable()
    tracemalloc.start()
    try:
        accepted, pushed = run(operator)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert accepted == 600
    assert pushed["delivery"]["requests"] >= 18
    sent_here = snapshot.filter_traces([tracemalloc.Filter(True, "*_streaming_delivery.py")])
    bodies_held = [trace.size for trace in sent_here.traces if trace.size > 30_000]
    assert bodies_held == []


def test_a_file_is_sent_while_it_is_still_being_written(inlet: Inlet, tmp_path: Path) -> None:
    """``events_path`` is read as requests need it: a named pipe whose writer waits until the inlet has
    counted records before writing the rest is delivered in full (reading it all first would wait for
    the writer forever)."""
    path = tmp_path / "events.pipe"
    os.mkfifo(path)
    seen_while_writing: list[int] = []

    def write() -> None:
        with path.open("w", encoding="utf-8") as pipe:
            for number in range(400):  # about ten requests of 16 KiB
                pipe.write(json.dumps(order(number, size=400)) + "\n")
            pipe.flush()
            deadline = time.monotonic() + 20
            while inlet.records() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            seen_while_writing.append(inlet.records())
            for number in range(400, 1000):
                pipe.write(json.dumps(order(number, size=400)) + "\n")

    writer = threading.Thread(target=write, name="pipe-writer")
    writer.start()
    try:
        accepted, pushed = send(inlet, events_path=str(path), max_request_bytes=16_384)
    finally:
        writer.join(timeout=30)
    assert seen_while_writing
    assert 0 < seen_while_writing[0] < 1000
    assert accepted == pushed["delivery"]["events"] == inlet.records() == 1000


def test_bad_lines_of_a_file_are_failed_messages_at_their_line(inlet: Inlet, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(order(0)), "[1, 2]", "{not json", json.dumps(order(3)), '{"x": NaN}']
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\n")
    with pytest.raises(AEPStreamingDeliveryFailed) as raised:
        send(inlet, events_path=str(path))
    message = str(raised.value)
    assert "2 of 6 event(s) accepted, 4 failed" in message
    assert "line 2: not a JSON object; line 3: not JSON (" in message
    assert "line 5: NaN is not a JSON value; line 6: not UTF-8" in message
    assert inlet.records() == 2


def test_events_from_an_upstream_task_are_resolved_not_rendered(inlet: Inlet) -> None:
    from airflow.sdk import DAG, task

    with DAG("streaming_xcom", schedule=None):

        @task
        def make_events() -> list[dict[str, Any]]:
            return []

        upstream = make_events()
        operator = AEPSendStreamingEventsOperator(task_id="send", inlet_url=inlet.url, events=upstream)
    assert "events" not in operator.template_fields
    assert operator.upstream_task_ids == {"make_events"}

    class TaskInstance:
        pushed: dict[str, Any] = {}

        def xcom_pull(self, task_ids: str, key: str, default: Any, map_indexes: Any) -> Any:
            assert (task_ids, key) == ("make_events", "return_value")
            return [order(n) for n in range(5)]

        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed[key] = value

    context: Any = {"ti": TaskInstance()}
    assert operator.execute(context) == 5
    assert inlet.records() == 5


def test_sync_validation_sends_each_event_alone_to_the_single_endpoint(inlet: Inlet) -> None:
    accepted, pushed = send(inlet, events=[order(n) for n in range(3)], sync_validation=True)
    assert accepted == 3
    assert pushed["delivery"]["requests"] == 3
    sent = [r for r in inlet.emulator.requests() if r["path"].startswith("/collection/")]
    assert [(r["path"].count("/batch/"), r["query"], r["status"]) for r in sent] == [
        (0, "syncValidation=true", 200)
    ] * 3
    assert inlet.records() == 3


def test_event_contents_never_reach_the_log(
    inlet: Inlet, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    secret = "private-buyer@example.com"
    events = [{"email": secret, "n": n} for n in range(50)] + [xdm("invalidIMSOrg@AdobeOrg")]
    inlet.emulator.add_faults([{"path": BATCH_PATH, "status": 429, "retry_after": 0}])
    with caplog.at_level(logging.DEBUG), pytest.raises(AEPStreamingDeliveryFailed) as raised:
        send(inlet, events=events)
    logged = caplog.text + "".join(capfd.readouterr())
    assert "AEP streaming" in logged
    assert "answered 429" in logged
    assert secret not in logged
    assert secret not in str(raised.value)
    assert secret not in json.dumps(raised.value.report.as_xcom())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "events, events_path"),
        ({"events": [order(1)], "events_path": "/tmp/x"}, "events, events_path"),
        ({"events": [order(1)], "max_concurrency": 0}, "max_concurrency"),
        ({"events": [order(1)], "max_request_bytes": 2_000_000}, "max_request_bytes"),
        ({"events": [order(1)], "max_failed_messages": -1}, "max_failed_messages"),
        ({"events": [order(1)], "max_failed_ratio": 1.5}, "max_failed_ratio"),
        ({"events": [order(1)], "on_lost_answer": "maybe"}, "on_lost_answer"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(AEPConfigError, match=field):
        AEPSendStreamingEventsOperator(
            task_id="send", inlet_url="https://dcs.adobedc.net/collection/1", **kwargs
        )


@pytest.mark.parametrize(
    ("url", "events_path", "field"),
    [
        ("https://dcs.adobedc.net/somewhere", None, "inlet_url"),
        ("https://dcs.adobedc.net/collection/1", "/nonexistent/events.jsonl", "events_path"),
    ],
)
def test_bad_inputs_fail_before_any_request(
    aep: RunningEmulator, url: str, events_path: str | None, field: str
) -> None:
    events = None if events_path else [order(1)]
    operator = AEPSendStreamingEventsOperator(
        task_id="send", inlet_url=url, events=events, events_path=events_path
    )
    with pytest.raises(AEPConfigError, match=field):
        run(operator)
    assert aep.requests() == []


def test_the_batch_url_of_an_inlet_url() -> None:
    def target(url: str, **kwargs: Any) -> str:
        return AEPSendStreamingEventsOperator(
            task_id="t", inlet_url=url, events=[order(1)], **kwargs
        ).endpoint_url()

    assert target("https://dcs.adobedc.net/collection/abc") == "https://dcs.adobedc.net/collection/batch/abc"
    assert target("https://dcs.adobedc.net/collection/abc/") == "https://dcs.adobedc.net/collection/batch/abc"
    assert (
        target("https://dcs.adobedc.net/collection/batch/abc")
        == "https://dcs.adobedc.net/collection/batch/abc"
    )
    assert (
        target("http://127.0.0.1:1/x/collection/abc", sync_validation=True)
        == "http://127.0.0.1:1/x/collection/abc"
    )


def test_an_unknown_inlet_stops_delivery_and_airflow_may_retry(inlet: Inlet) -> None:
    wrong = inlet.url.rsplit("/", 1)[0] + "/" + "0" * 64
    operator = AEPSendStreamingEventsOperator(task_id="send", inlet_url=wrong, events=[order(1), order(2)])
    with pytest.raises(AEPStreamingDeliveryError) as raised:
        run(operator)
    assert not isinstance(raised.value, AEPStreamingDeliveryFailed)  # nothing can have been ingested
    assert "delivery stopped" in str(raised.value)
    assert "404" in str(raised.value)


def test_an_error_after_accepted_events_stops_delivery_without_airflow_retries(inlet: Inlet) -> None:
    # The first request passes (a rule without status), the second is refused.
    inlet.emulator.add_faults([{"path": BATCH_PATH}, {"path": BATCH_PATH, "status": 404}])
    events = [order(n, size=900) for n in range(3000)]  # three requests
    operator = AEPSendStreamingEventsOperator(
        task_id="send", inlet_url=inlet.url, events=events, max_concurrency=1
    )
    with pytest.raises(AEPStreamingDeliveryFailed) as raised:
        run(operator)
    report = raised.value.report
    assert report.accepted > 0
    assert report.accepted + report.not_sent == 3000
    assert f"{report.not_sent:,} not sent" in str(raised.value)
    assert "delivery stopped" in str(raised.value)
    assert "Not retried" in str(raised.value)
    # Reading stopped at the first error: nothing after the refused request was sent.
    assert [r["status"] for r in inlet.batch_requests()] == [207, 404]
    assert inlet.records() == report.accepted
