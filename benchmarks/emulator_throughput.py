"""How many authenticated Platform GETs per second the emulator serves on loopback.

Starts ``aep-emulator serve`` in its own process (so client and server do not share one GIL), fetches an
IMS token, then sends a fixed number of ``GET /flowservice/flows/{id}`` calls over keep-alive
connections from a few client threads. Loopback only, bounded in count and time; prints the rate.

    python benchmarks/emulator_throughput.py [--requests 5000] [--threads 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlencode

from emulator_process import HOST, free_port, running_emulator

from aep_emulator.settings import EmulatorSettings

FLOW = "/data/foundation/flowservice"
TIME_LIMIT_SECONDS = 120.0


def _call(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> tuple[int, bytes]:
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _prepare(port: int) -> tuple[dict[str, str], str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    form = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": "aep-emulator",
            "client_secret": "aep-emulator-secret",
        }
    ).encode()
    status, body = _call(
        connection, "POST", "/ims/token/v3", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 200:
        raise RuntimeError(f"IMS answered {status}")
    headers = {
        "Authorization": "Bearer " + json.loads(body)["access_token"],
        "x-api-key": "aep-emulator",
        "x-gw-ims-org-id": "EMULATOR@AdobeOrg",
        "x-sandbox-name": "prod",
    }
    connection_body = {
        "name": "bench",
        "auth": {
            "specName": "Client-Id-Secret Based Authentication",
            "params": {"host": "h", "clientId": "c", "clientSecret": "s"},
        },
        "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
    }
    status, body = _call(
        connection,
        "POST",
        f"{FLOW}/connections",
        json.dumps(connection_body).encode(),
        {**headers, "Content-Type": "application/json"},
    )
    if status != 201:
        raise RuntimeError(f"create connection answered {status}: {body!r}")
    return headers, f"{FLOW}/connections/{json.loads(body)['id']}"


def _worker(port: int, path: str, headers: dict[str, str], count: int, failures: list[int]) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    for _ in range(count):
        if time.monotonic() > deadline:
            failures.append(-1)
            return
        status, _ = _call(connection, "GET", path, None, headers)
        if status != 200:
            failures.append(status)


def main() -> int:
    """Run the benchmark and print requests per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="total GETs (default 5000)")
    parser.add_argument("--threads", type=int, default=2, help="client threads (default 2)")
    args = parser.parse_args()
    port = free_port()
    with running_emulator(EmulatorSettings(host=HOST, port=port)):
        headers, path = _prepare(port)
        per_thread = max(1, args.requests // args.threads)
        failures: list[int] = []
        threads = [
            threading.Thread(target=_worker, args=(port, path, headers, per_thread, failures))
            for _ in range(args.threads)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    total = per_thread * args.threads
    rate = total / elapsed
    print(
        f"emulator throughput: {rate:,.0f} authenticated GETs/s "
        f"({total} requests, {args.threads} threads, {elapsed:.2f}s)"
    )
    if failures:
        print(f"{len(failures)} requests failed: {sorted(set(failures))}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
