"""Events per second into a streaming inlet: one event per request (the old operator) vs the batch operator.

Starts ``aep-emulator serve`` in its own process (client and server do not share one GIL), builds a
Shopify streaming dataflow (seed 000) over HTTP, then sends the tutorial's sample order (ids varied) to
its inlet in each way, in one run:

* ``one per request``: a loop posting each event alone to ``/collection/{id}`` and waiting for the
  answer, as ``AEPSendStreamingEventsOperator`` did before it used the batch endpoint;
* ``batch operator``: ``AEPSendStreamingEventsOperator`` with its defaults (``/collection/batch/{id}``,
  requests up to 1,000,000 bytes, 4 in flight);
* ``single endpoint, 4 in flight``: the operator with ``sync_validation=True`` (one event per request,
  but concurrent), to show what concurrency alone brings.

Each runs on loopback and with a round trip injected by the emulator (``delay_ms`` on every inlet
request, 20 ms by default). The emulator's count of ingested records is checked against what was
sent. Prints events/s and the ratios to the one-per-request loop of the same network.

``--file-events N`` first sends N events from a JSON-lines file (``events_path``) on loopback, the
file written beforehand to a temporary directory (the same order, ids varied: about 4.8 KB a line) and
deleted after: it prints events/s and the peak RSS growth of this process (the sending one; psutil
samples it every 20 ms) over its RSS before the operator ran, with the provider's modules already
imported. ``--file-only`` skips the throughput table.

    python benchmarks/streaming_throughput.py [--delay-ms 20] [--events 20000] [--baseline-seconds 5]
    python benchmarks/streaming_throughput.py --file-events 1000000 --file-only
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from emulator_process import HOST, free_port, running_emulator

from aep_emulator.settings import EmulatorSettings

# The operators run outside a task runner here; their log lines would drown the table.
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")

FLOW = "/data/foundation/flowservice"
ORDER = Path(__file__).resolve().parents[1] / "example_dags" / "data" / "shopify_order.json"
SHOPIFY_SPEC = "e77fd9d2-22a8-11ed-861d-0242ac120002"
SHOPIFY_PROVIDER = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
STREAMING_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"


class Emulator:
    """The admin calls this benchmark makes to the emulator at ``url``."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def faults(self, rules: list[dict[str, Any]]) -> None:
        self.http.delete("/__emulator__/faults").raise_for_status()
        if rules:
            self.http.post("/__emulator__/faults", json={"rules": rules}).raise_for_status()

    def records(self) -> int:
        inlets = self.http.get("/__emulator__/state").json()["prod"]["inlets"]
        return int(inlets[0]["records"])

    def close(self) -> None:
        self.http.close()


def streaming_inlet(emulator: Emulator) -> str:
    """Seed 000's resources, created over HTTP; the dataflow's inlet URL."""
    token = emulator.http.post(
        "/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": "aep-emulator",
            "client_secret": "aep-emulator-secret",
        },
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": "aep-emulator",
        "x-gw-ims-org-id": "EMULATOR@AdobeOrg",
        "x-sandbox-name": "prod",
    }

    def create(path: str, body: dict[str, Any]) -> str:
        answer = emulator.http.post(path, json=body, headers=headers)
        answer.raise_for_status()
        created = answer.json()
        if isinstance(created, list):  # Catalog answers ["@/dataSets/<id>"]
            return str(created[0]).rsplit("/", 1)[-1]
        return str(created.get("$id") or created["id"])

    source = create(
        f"{FLOW}/sourceConnections",
        {
            "name": "Shopify source",
            "providerId": SHOPIFY_PROVIDER,
            "connectionSpec": {"id": SHOPIFY_SPEC, "version": "1.0"},
            "data": {"format": "json"},
        },
    )
    schema = create(
        "/data/foundation/schemaregistry/tenant/schemas",
        {
            "type": "object",
            "title": "Shopify orders",
            "description": "bench",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )
    dataset = create(
        "/data/foundation/catalog/dataSets",
        {"name": "Shopify orders", "schemaRef": {"id": schema, "contentType": XED_FULL}},
    )
    target = create(
        f"{FLOW}/targetConnections",
        {
            "name": "Shopify target",
            "data": {"format": "json", "schema": {"id": schema, "version": XED_FULL}},
            "params": {"dataSetId": dataset},
            "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
        },
    )
    mapping = create(
        "/data/foundation/conversion/mappingSets",
        {
            "version": 0,
            "xdmSchema": schema,
            "xdmVersion": "1.0",
            "mappings": [
                {
                    "destinationXdmPath": "person.name.firstName",
                    "sourceAttribute": "firstName",
                    "identity": False,
                }
            ],
        },
    )
    flow = create(
        f"{FLOW}/flows",
        {
            "name": "Shopify streaming dataflow",
            "flowSpec": {"id": STREAMING_FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [source],
            "targetConnectionIds": [target],
            "transformations": [{"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}}],
        },
    )
    item = emulator.http.get(f"{FLOW}/flows/{flow}", headers=headers).json()["items"][0]
    return str(item["inletUrl"])


def sample_orders(count: int) -> list[dict[str, Any]]:
    order: dict[str, Any] = json.loads(ORDER.read_text())
    return [dict(order, id=number) for number in range(count)]


def one_per_request(inlet: str, events: list[dict[str, Any]], seconds: float) -> tuple[int, float]:
    """The old operator's way: each event posted alone, the next after the answer; stops after ``seconds``."""
    from airflow_provider_aep.hooks._core import user_agent

    headers = {"Content-Type": "application/json", "User-Agent": user_agent()}
    sent = 0
    started = time.perf_counter()
    with httpx.Client(timeout=30.0) as client:
        for event in events:
            client.post(inlet, json=event, headers=headers).raise_for_status()
            sent += 1
            if time.perf_counter() - started >= seconds:
                break
    return sent, time.perf_counter() - started


def operator_run(inlet: str, events: list[dict[str, Any]], **kwargs: Any) -> tuple[int, float]:
    count, seconds = run_operator(inlet, events=events, **kwargs)
    if count != len(events):
        raise RuntimeError(f"the operator got {count} of {len(events)} events accepted")
    return count, seconds


def run_operator(inlet: str, **kwargs: Any) -> tuple[int, float]:
    """``AEPSendStreamingEventsOperator.execute`` outside a task runner: events accepted, seconds."""
    from airflow_provider_aep.operators.streaming import AEPSendStreamingEventsOperator

    class TaskInstance:
        def xcom_push(self, key: str, value: Any) -> None:
            pass

    operator = AEPSendStreamingEventsOperator(task_id="bench", inlet_url=inlet, **kwargs)
    started = time.perf_counter()
    context: Any = {"ti": TaskInstance()}
    accepted = int(operator.execute(context))
    return accepted, time.perf_counter() - started


def write_events_file(path: Path, count: int) -> int:
    """``count`` orders (ids varied), one JSON object a line, encoded once and written in 1 MB chunks."""
    order: dict[str, Any] = json.loads(ORDER.read_text())
    marker = "@@id@@"
    head, tail = json.dumps(dict(order, id=marker), separators=(",", ":")).split(json.dumps(marker))
    with path.open("w", encoding="utf-8") as stream:
        chunk: list[str] = []
        for number in range(count):
            chunk.append(f"{head}{number}{tail}\n")
            if len(chunk) == 200:
                stream.write("".join(chunk))
                chunk.clear()
        stream.write("".join(chunk))
    return path.stat().st_size


class PeakRss:
    """The RSS of this process sampled every ``interval`` seconds while in the ``with`` block: its
    highest, and its highest over each quarter of the time (does it level off or keep growing?)."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._samples: list[tuple[float, int]] = []
        self.before = 0
        self.peak = 0

    def _rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            rss = self._rss()
            self._samples.append((time.monotonic(), rss))
            self.peak = max(self.peak, rss)

    def quarter_peaks(self) -> list[int]:
        """The highest RSS sampled in each quarter of the time (the RSS before for an empty one)."""
        if not self._samples:
            return []
        first, last = self._samples[0][0], self._samples[-1][0]
        peaks = [self.before] * 4
        for when, rss in self._samples:
            quarter = min(3, int(4 * (when - first) / max(last - first, 1e-9)))
            peaks[quarter] = max(peaks[quarter], rss)
        return peaks

    def __enter__(self) -> PeakRss:
        self.before = self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def file_run(emulator: Emulator, inlet: str, count: int) -> None:
    """Send ``count`` events from a JSON-lines file; print events/s and the sender's peak RSS growth."""
    # What any task sending events loads; imported first so the growth measured is the delivery's.
    import airflow_provider_aep.operators._streaming_delivery
    import airflow_provider_aep.operators.streaming  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="aep-streaming-bench-") as folder:
        path = Path(folder) / "events.jsonl"
        started = time.perf_counter()
        size = write_events_file(path, count)
        written = time.perf_counter() - started
        print(f"file: {count:,} events, {size / 2**20:,.0f} MiB, written in {written:.1f} s")
        before = emulator.records()
        with PeakRss() as rss:
            accepted, seconds = run_operator(inlet, events_path=str(path))
    counted = emulator.records() - before
    if accepted != count or counted != count:
        raise RuntimeError(
            f"{count} events in the file, {accepted} accepted, {counted} counted by the emulator"
        )
    growth = (rss.peak - rss.before) / 2**20
    print(
        f"file of {count:,} events (events_path), loopback: {seconds:.1f} s, "
        f"{count / seconds:,.0f} events/s; "
        f"sender RSS {rss.before / 2**20:,.0f} MiB before, peak {rss.peak / 2**20:,.0f} MiB: "
        f"growth {growth:,.1f} MiB; counted by the emulator: {counted:,}"
    )
    quarters = ", ".join(f"{(peak - rss.before) / 2**20:,.1f}" for peak in rss.quarter_peaks())
    print(f"sender RSS growth, highest in each quarter of the run: {quarters} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay-ms", type=int, default=20, help="round trip injected on inlet requests")
    parser.add_argument("--events", type=int, default=20_000, help="events the batch operator sends")
    parser.add_argument("--baseline-seconds", type=float, default=5.0, help="how long the slow ways run")
    parser.add_argument("--file-events", type=int, default=0, help="also send this many from a file")
    parser.add_argument("--file-only", action="store_true", help="only the file run (--file-events)")
    args = parser.parse_args()
    if args.file_only and not args.file_events:
        parser.error("--file-only needs --file-events")

    settings = EmulatorSettings(host=HOST, port=free_port())
    with running_emulator(settings) as server, closing(Emulator(server.url)) as emulator:
        inlet = streaming_inlet(emulator)
        if args.file_events:
            file_run(emulator, inlet, args.file_events)
        if args.file_only:
            return
        already = emulator.records()  # the file run's events, counted before the runs below
        events = sample_orders(args.events)
        size = len(json.dumps(events[0], separators=(",", ":")).encode())
        print(f"event: the tutorial's Shopify order, {size:,} bytes encoded; emulator in its own process")
        load = os.getloadavg()
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
        sent = 0
        rows: list[tuple[str, str, int, float]] = []
        for network, delay in (("loopback", 0), (f"{args.delay_ms} ms round trip", args.delay_ms)):
            rules = [{"path": "/collection/", "delay_ms": delay, "times": 10**9}] if delay else []
            emulator.faults(rules)
            count, seconds = one_per_request(inlet, events, args.baseline_seconds)
            rows.append((network, "one event per request (before)", count, seconds))
            sent += count
            # As many events as the loop sent: about ``baseline_seconds`` or less at 4 in flight.
            single = events[: max(4, count)]
            count, seconds = operator_run(inlet, single, sync_validation=True)
            rows.append((network, "single endpoint, 4 in flight", count, seconds))
            sent += count
            count, seconds = operator_run(inlet, events)
            rows.append((network, "batch operator (1 MB, 4 in flight)", count, seconds))
            sent += count
        emulator.faults([])
        counted = emulator.records() - already
        if counted != sent:
            raise RuntimeError(f"the emulator counted {counted} records, {sent} were sent")

    print(f"{'network':<20} {'way':<36} {'events':>8} {'seconds':>8} {'events/s':>10} {'ratio':>7}")
    base: dict[str, float] = {}
    for network, way, count, seconds in rows:
        rate = count / seconds
        base.setdefault(network, rate)
        print(
            f"{network:<20} {way:<36} {count:>8,} {seconds:>8.2f} {rate:>10,.0f} "
            f"{rate / base[network]:>6.1f}x"
        )
    print(f"records counted by the emulator: {sent:,} (= events sent)")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
