"""The helpers a user's DAG test asserts with (``aep_emulator.testing``): what AEP holds (dataflows, runs,
their windows, datasets, Catalog batches, every page of them), the clock, faults, and errors that say
what was wrong."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from aep_emulator.faults import FaultRule
from aep_emulator.testing import HELPER_USER_AGENT, RunningEmulator, run_status, run_window

from .platform import FLOW, PlatformClient

DAY = 86400


def test_what_a_flow_run_wrote_is_visible_through_the_helpers(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    end = int(time.time()) // DAY * DAY
    window = {"windowStartTime": end - 2 * DAY, "windowEndTime": end, "deltaColumn": {"name": "Update_Time"}}
    body = {"flowId": flow_id, "params": {"startTime": end, **window}}
    run_id = aep.created_id("POST", f"{FLOW}/runs", body)
    emulator.advance_clock(2)

    assert [flow["id"] for flow in emulator.dataflows()] == [flow_id]
    [run] = emulator.runs(flow_id)
    assert run["id"] == run_id
    assert run_status(run) == "success"
    assert run_window(run) == (end - 2 * DAY, end)
    assert emulator.runs("no-such-flow") == []
    assert [dataset["id"] for dataset in emulator.datasets()] == [batch_setup["dataset"]]

    [batch] = emulator.batches(batch_setup["dataset"])
    assert batch["status"] == "success"
    assert batch["metrics"]["outputRecordCount"] == run["metrics"]["recordSummary"]["outputRecordCount"] > 0
    assert emulator.batches("no-such-dataset") == []
    assert emulator.batches(sandbox="dev") == []
    # the helpers' own Platform calls are logged under their name, never as the provider's
    helper_calls = [r for r in emulator.requests() if r["path"].endswith("/catalog/batches")]
    assert {r["user_agent"] for r in helper_calls} == {HELPER_USER_AGENT}


def test_batches_reads_every_catalog_page(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    now = int(emulator.now())
    schedule = {"startTime": now + 60, "frequency": "day", "interval": 1, "backfill": False}
    flow_id = aep.created_id("POST", f"{FLOW}/flows", aep.flow_body(batch_setup, schedule))
    emulator.advance_clock_to(now + 60 + 104 * DAY + 3600)  # 105 daily runs, all finished
    runs = emulator.runs(flow_id)
    assert len(runs) == 105
    assert {run_status(run) for run in runs} == {"success"}
    written = [run for run in runs if run["metrics"]["recordSummary"]["outputRecordCount"] > 0]
    batches = emulator.batches(batch_setup["dataset"])
    assert len(batches) == len(written) > 100  # more than Catalog's largest page
    assert len({batch["id"] for batch in batches}) == len(batches)


def test_advance_clock_to_moves_forward_only(emulator: RunningEmulator) -> None:
    start = emulator.now()
    assert abs(start - time.time()) < 5
    emulator.advance_clock_to(start + 3600)
    assert emulator.now() - start == pytest.approx(3600, abs=5)
    emulator.advance_clock_to(start)  # in the past: nothing moves
    assert emulator.now() - start == pytest.approx(3600, abs=5)


def test_unknown_kinds_and_sandboxes_are_named(emulator: RunningEmulator) -> None:
    with pytest.raises(KeyError, match="no resource kind 'flow'; the kinds are"):
        emulator.resources("flow")
    with pytest.raises(KeyError, match="no sandbox 'staging'"):
        emulator.resources("flows", sandbox="staging")


def test_platform_calls_survive_an_expired_token(emulator: RunningEmulator) -> None:
    assert emulator.batches() == []
    emulator.expire_tokens()
    assert emulator.batches() == []


def test_faults_are_fault_rules_or_dicts_and_bad_ones_are_named(emulator: RunningEmulator) -> None:
    emulator.add_faults([FaultRule(path="/data/foundation/catalog/batches", status=503, times=1)])
    with pytest.raises(httpx.HTTPStatusError, match="answered 503"):
        emulator.batches()
    assert emulator.batches() == []  # times=1: the next call is answered normally
    with pytest.raises(httpx.HTTPStatusError, match=r"answered 400: .*unknown fault fields: \['stauts'\]"):
        emulator.add_faults([{"path": "/x", "stauts": 500}])
