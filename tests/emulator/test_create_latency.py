"""``create_latency_seconds``: every resource create waits before it is checked and stored, without
blocking the server, so overlapping look-up-then-create calls miss each other as on real AEP (Flow
Service and Catalog keep both resources: no document makes their names unique)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from aep_emulator.settings import EmulatorSettings
from aep_emulator.state import Store
from aep_emulator.testing import RunningEmulator

from .platform import CATALOG, FLOW, PAYPAL_SPEC, SCHEMAS, XED_FULL, PlatformClient

LATENCY = 1.0
PAYPAL = {
    "name": "Same name",
    "auth": {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {"host": "h", "clientId": "c", "clientSecret": "s"},
    },
    "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
}


def _timed(aep: PlatformClient, method: str, path: str, body: Any = None) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = aep.request(method, path, body)
    return answer, time.monotonic() - started


def _concurrently(
    aep: PlatformClient, calls: list[tuple[str, str, Any]]
) -> list[tuple[httpx.Response, float]]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: _timed(aep, *call), calls))


def _slow_down(emulator: RunningEmulator) -> None:
    assert emulator.configure(create_latency_seconds=LATENCY)["create_latency_seconds"] == LATENCY


def test_two_concurrent_creates_of_one_name_both_succeed_after_the_latency(
    aep: PlatformClient, emulator: RunningEmulator
) -> None:
    schema = aep.created_id(
        "POST",
        f"{SCHEMAS}/tenant/schemas",
        {
            "type": "object",
            "title": "Latency",
            "description": "Latency",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )
    dataset = {"name": "Same dataset", "schemaRef": {"id": schema, "contentType": XED_FULL}}
    _slow_down(emulator)
    started = time.monotonic()
    answers = _concurrently(
        aep,
        [
            ("POST", f"{FLOW}/connections", PAYPAL),
            ("POST", f"{FLOW}/connections", PAYPAL),
            ("POST", f"{CATALOG}/dataSets", dataset),
            ("POST", f"{CATALOG}/dataSets", dataset),
            ("GET", f"{FLOW}/connections", None),
        ],
    )
    elapsed = time.monotonic() - started
    *creates, (listing, list_time) = answers
    assert [answer.status_code for answer, _ in creates] == [201, 201, 201, 201]
    assert all(took >= LATENCY for _, took in creates)
    # The waits overlap (the server is not blocked), and a read is not delayed by them.
    assert elapsed < 2 * LATENCY
    assert list_time < LATENCY
    assert listing.json()["items"] == []
    names = [item["name"] for item in aep.request("GET", f"{FLOW}/connections").json()["items"]]
    assert names == ["Same name", "Same name"]
    datasets = aep.request("GET", f"{CATALOG}/dataSets").json()
    assert [item["name"] for item in datasets.values()] == ["Same dataset", "Same dataset"]


def test_schema_registry_still_refuses_the_second_title_after_both_waited(
    aep: PlatformClient, emulator: RunningEmulator
) -> None:
    _slow_down(emulator)
    body = {
        "type": "object",
        "title": "Twice",
        "description": "Twice",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
    }
    answers = _concurrently(aep, [("POST", f"{SCHEMAS}/tenant/schemas", body)] * 2)
    assert sorted(answer.status_code for answer, _ in answers) == [201, 400]
    assert all(took >= LATENCY for _, took in answers)


def test_runs_and_tokens_take_no_create_latency(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    _slow_down(emulator)
    today = int(time.time()) // 86400 * 86400
    params = {"startTime": today, "windowStartTime": today - 86400, "windowEndTime": today}
    run, took = _timed(
        aep,
        "POST",
        f"{FLOW}/runs",
        {"flowId": flow_id, "params": {**params, "deltaColumn": {"name": "Update_Time"}}},
    )
    assert run.status_code == 201, run.text
    assert took < LATENCY
    started = time.monotonic()
    aep.fetch_token()
    assert time.monotonic() - started < LATENCY


def test_the_latency_can_be_set_at_start() -> None:
    settings = EmulatorSettings.from_env({"AEP_EMULATOR_CONFIG": '{"create_latency_seconds": 1.5}'})
    assert Store(settings).config.create_latency_seconds == 1.5
