"""The admin API: request log, reset, state, config and injected faults."""

from __future__ import annotations

import time

import httpx
import pytest

from aep_emulator.testing import RunningEmulator

from .platform import FLOW, PAYPAL_SPEC, PlatformClient

CONNECTION = {
    "name": "paypal",
    "auth": {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {"host": "h", "clientId": "c", "clientSecret": "s"},
    },
    "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
}


def test_request_log_counts_platform_calls_but_not_admin_calls(
    aep: PlatformClient, emulator: RunningEmulator
) -> None:
    aep.request("GET", f"{FLOW}/flows", params={"limit": "5"})
    emulator.state()
    log = emulator.requests()
    assert [entry["path"] for entry in log] == ["/ims/token/v3", f"{FLOW}/flows"]
    entry = log[1]
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["query"] == "limit=5"
    assert entry["sandbox"] == "prod"
    assert entry["time"] > 0


def test_reset_forgets_everything(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    emulator.configure(post_runs_shape="items")
    emulator.advance_clock(100)
    emulator.add_faults([{"path": "/never"}])
    emulator.reset()
    state = emulator.state()
    assert all(
        not state["prod"][kind] for kind in ("connections", "flows", "dataSets", "schemas", "mappingSets")
    )
    assert emulator.requests() == []
    assert emulator.configure()["post_runs_shape"] == "spec"
    assert abs(emulator.health()["now"] - time.time()) < 5


def test_state_shows_resources_by_sandbox_and_kind(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    state = emulator.state()
    assert set(state) == {"prod", "dev"}
    prod = state["prod"]
    assert [item["id"] for item in prod["connections"]] == [batch_setup["base"]]
    assert [item["$id"] for item in prod["schemas"]] == [batch_setup["schema"]]
    assert [item["id"] for item in prod["dataSets"]] == [batch_setup["dataset"]]
    assert len(prod["mappingSets"]) == 1
    assert state["dev"]["connections"] == []


def test_state_shows_runs_with_their_window_and_status(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    body = {
        "flowId": flow_id,
        "params": {
            "startTime": 0,
            "windowStartTime": 100,
            "windowEndTime": 200,
            "deltaColumn": {"name": "Update_Time"},
        },
    }
    run_id = aep.created_id("POST", f"{FLOW}/runs", body)
    emulator.advance_clock(2)
    (run,) = emulator.state()["prod"]["runs"]
    assert run["id"] == run_id
    assert run["params"]["windowStartTime"] == 100
    assert run["params"]["windowEndTime"] == 200
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert run["runKind"] == "onDemand"
    assert run["plan"]["input"] == run["metrics"]["recordSummary"]["inputRecordCount"]


def test_status_fault_with_retry_after_hits_n_times(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.add_faults(
        [{"method": "GET", "path": f"{FLOW}/flows", "status": 429, "times": 2, "retry_after": 3}]
    )
    first = aep.request("GET", f"{FLOW}/flows")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert first.headers["x-request-id"]
    assert aep.request("GET", f"{FLOW}/flows").status_code == 429
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200


def test_regex_path_and_custom_body(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.add_faults(
        [
            {
                "path": r"^/data/foundation/flowservice/(flows|runs)$",
                "status": 503,
                "body": {"why": "maintenance"},
            }
        ]
    )
    assert aep.request("GET", f"{FLOW}/connections").status_code == 200
    answer = aep.request("GET", f"{FLOW}/runs")
    assert answer.status_code == 503
    assert answer.json() == {"why": "maintenance"}


def test_after_commit_applies_the_request_but_loses_the_answer(
    aep: PlatformClient, emulator: RunningEmulator
) -> None:
    emulator.add_faults(
        [{"method": "POST", "path": f"{FLOW}/connections", "status": 500, "after_commit": True}]
    )
    assert aep.request("POST", f"{FLOW}/connections", CONNECTION).status_code == 500
    assert len(emulator.state()["prod"]["connections"]) == 1


def test_drop_connection_closes_the_socket(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.add_faults(
        [{"method": "POST", "path": f"{FLOW}/connections", "drop_connection": True, "after_commit": True}]
    )
    with pytest.raises(httpx.TransportError):
        aep.request("POST", f"{FLOW}/connections", CONNECTION)
    assert len(emulator.state()["prod"]["connections"]) == 1
    assert aep.request("GET", f"{FLOW}/connections").status_code == 200


def test_delay_and_clear_faults(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.add_faults([{"path": f"{FLOW}/flows", "delay_ms": 300}])
    started = time.monotonic()
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200
    assert time.monotonic() - started >= 0.3
    emulator.add_faults([{"path": f"{FLOW}/flows", "status": 500, "times": 5}])
    emulator.clear_faults()
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200


def test_faults_can_hit_ims(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.add_faults([{"path": "/ims/token/v3", "status": 503}])
    with pytest.raises(httpx.HTTPStatusError):
        aep.fetch_token()
    assert aep.fetch_token()


def test_bad_admin_input_is_rejected(emulator: RunningEmulator) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        emulator.add_faults([{"path": "/x", "explode": True}])
    with pytest.raises(httpx.HTTPStatusError):
        emulator.configure(post_runs_shape="xml")
    with pytest.raises(httpx.HTTPStatusError):
        emulator.set_run_outcome("no-such-run", "failed")
