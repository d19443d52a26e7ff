"""Flow runs: on-demand windows, the status timeline, sample-data counts, scheduled runs, outcomes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aep_emulator import sample_data
from aep_emulator.testing import RunningEmulator

from .platform import FLOW, PlatformClient

DAY = 86400


def _run_body(flow_id: str, start: int, end: int, delta: str = "Update_Time") -> dict[str, Any]:
    return {
        "flowId": flow_id,
        "params": {
            "startTime": int(time.time()),
            "windowStartTime": start,
            "windowEndTime": end,
            "deltaColumn": {"name": delta},
        },
    }


def _copy_window(run: dict[str, Any]) -> tuple[int, int]:
    """The window of the copy activity (epoch ms), as Adobe's monitoring example shows it."""
    (copy,) = [activity for activity in run["activities"] if activity["id"] == "copyActivity"]
    extensions = copy["durationSummary"]["extensions"]
    return extensions["windowStart"], extensions["windowEnd"]


def _yesterday() -> tuple[int, int]:
    today = int(time.time()) // DAY * DAY
    return today - DAY, today


def test_on_demand_run_goes_scheduled_in_progress_success(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    answer = aep.request("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    assert answer.status_code == 201
    assert set(answer.json()) == {"id", "etag"}
    run_id = answer.json()["id"]
    assert aep.run_status(run_id) == "scheduled"
    emulator.advance_clock(0.5)
    assert aep.run_status(run_id) == "inProgress"
    emulator.advance_clock(1.0)
    run = aep.item(f"{FLOW}/runs/{run_id}")
    metrics = run["metrics"]
    assert metrics["statusSummary"]["status"] == "success"
    assert "params" not in run, "Adobe's GET /runs examples show no params"
    assert _copy_window(run) == (start * 1000, end * 1000)
    summary = metrics["recordSummary"]
    assert summary["inputRecordCount"] > 0
    assert summary["outputRecordCount"] == summary["inputRecordCount"]
    assert summary["failedRecordCount"] == 0
    duration = metrics["durationSummary"]
    assert duration["completedAtUTC"] - duration["startedAtUTC"] == 1000
    assert [activity["statusSummary"]["status"] for activity in run["activities"]] == ["success", "success"]
    copy, promotion = run["activities"]
    assert [copy["id"], promotion["id"]] == ["copyActivity", "promotionActivity"]
    assert copy["statusSummary"]["extensions"]["type"] == "one-time"
    assert [info["id"] for info in copy["sourceInfo"]] == [batch_setup["source"]]
    (target,) = promotion["targetInfo"]
    assert target["id"] == batch_setup["target"]
    assert target["reference"]["type"] == "Batch"
    assert len(target["reference"]["ids"]) == 1
    flow = aep.item(f"{FLOW}/flows/{flow_id}")
    assert flow["lastRunDetails"]["id"] == run_id
    assert flow["lastRunDetails"]["state"] == "success"


def test_record_counts_follow_the_window_and_the_delta_column(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    today = int(time.time()) // DAY * DAY
    one_day = aep.created_id(
        "POST", f"{FLOW}/runs", _run_body(flow_id, today - 3 * DAY, today - 2 * DAY, "Create_Time")
    )
    three_days = aep.created_id(
        "POST", f"{FLOW}/runs", _run_body(flow_id, today - 5 * DAY, today - 2 * DAY, "Create_Time")
    )
    emulator.advance_clock(2)
    counts = [
        aep.item(f"{FLOW}/runs/{run}")["metrics"]["recordSummary"]["inputRecordCount"]
        for run in (one_day, three_days)
    ]
    expected_day = sample_data.rows_on_day("PayPal.Catalog_Products", (today - 3 * DAY) // DAY)
    assert counts[0] == expected_day
    assert counts[1] == sum(
        sample_data.rows_on_day("PayPal.Catalog_Products", day)
        for day in range((today - 5 * DAY) // DAY, (today - 2 * DAY) // DAY)
    )
    assert 3 <= counts[0] <= 40


def test_unknown_delta_column_fails_the_run(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end, "updatedAt"))
    emulator.advance_clock(2)
    run = aep.item(f"{FLOW}/runs/{run_id}")
    assert run["metrics"]["statusSummary"]["status"] == "failed"
    assert run["metrics"]["statusSummary"]["errors"][0]["code"] == "CONNECTOR-1001-500"


def test_on_demand_runs_need_a_once_schedule(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.created_id(
        "POST",
        f"{FLOW}/flows",
        aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "hour", "interval": 1}),
    )
    start, end = _yesterday()
    answer = aep.request("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    assert answer.status_code == 400
    assert "once" in answer.json()["report"]["detailed-message"]
    missing = aep.request("POST", f"{FLOW}/runs", {"flowId": flow_id, "params": {"startTime": 1}})
    assert missing.status_code == 400


@pytest.mark.parametrize("status", ["failed", "partialSuccess", "cancelledByAlien"])
def test_forced_run_and_flow_outcomes(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str], status: str
) -> None:
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    errors = [{"code": "INGEST-1212-400", "message": "bad rows"}]
    emulator.set_run_outcome(run_id, status, errors)
    emulator.set_flow_outcome(flow_id, status)
    second = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    emulator.advance_clock(2)
    first_run = aep.item(f"{FLOW}/runs/{run_id}")["metrics"]
    assert first_run["statusSummary"]["status"] == status
    assert first_run["statusSummary"]["errors"] == errors
    assert aep.run_status(second) == status
    records = first_run["recordSummary"]
    if status == "failed":
        assert records["outputRecordCount"] == 0
    if status == "partialSuccess":
        assert 0 < records["failedRecordCount"] < records["inputRecordCount"]


def test_scheduled_runs_appear_per_interval_with_their_windows(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    start = int(time.time()) + 60
    schedule = {"startTime": start, "frequency": "minute", "interval": 15, "backfill": False}
    flow_id = aep.created_id("POST", f"{FLOW}/flows", aep.flow_body(batch_setup, schedule))
    listed = aep.request("GET", f"{FLOW}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert listed == []
    emulator.advance_clock(60 + 2 * 900 + 5)
    runs = aep.request(
        "GET", f"{FLOW}/runs", params={"property": f"flowId=={flow_id}", "orderby": "createdAt"}
    ).json()["items"]
    assert [_copy_window(run) for run in runs] == [
        ((start - 900) * 1000, start * 1000),
        (start * 1000, (start + 900) * 1000),
        ((start + 900) * 1000, (start + 1800) * 1000),
    ]
    assert {run["metrics"]["statusSummary"]["status"] for run in runs} == {"success"}
    aep.request("POST", f"{FLOW}/flows/{flow_id}/action", params={"op": "disable"})
    emulator.advance_clock(3600)
    assert aep.request(
        "GET", f"{FLOW}/runs", params={"property": f"flowId=={flow_id}", "count": "true"}
    ).json() == {"count": 3}


@pytest.mark.parametrize("shape", ["spec", "items", "run"])
def test_post_runs_answer_shape_is_configurable(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str], shape: str
) -> None:
    emulator.configure(post_runs_shape=shape)
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    body = aep.request("POST", f"{FLOW}/runs", _run_body(flow_id, start, end)).json()
    if shape == "spec":
        assert set(body) == {"id", "etag"}
    elif shape == "items":
        assert set(body["items"][0]) == {"id", "etag"}
    else:
        assert body["metrics"]["statusSummary"]["status"] == "scheduled"
        assert body["flowId"] == flow_id


def test_run_duration_is_configurable(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    emulator.configure(run_duration_seconds=30)
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    emulator.advance_clock(10)
    assert aep.run_status(run_id) == "inProgress"
    emulator.advance_clock(30)
    assert aep.run_status(run_id) == "success"


def test_runs_complete_in_real_time_too(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    assert aep.wait_for_run(run_id, timeout=5)["metrics"]["statusSummary"]["status"] == "success"


@pytest.mark.parametrize(
    ("fields", "in_params", "in_activity"),
    [
        ("activity", False, True),
        ("activity_and_params", True, True),
        ("params", True, False),
        ("none", False, False),
    ],
)
def test_where_a_run_shows_its_window_is_a_config_variant(
    aep: PlatformClient,
    emulator: RunningEmulator,
    batch_setup: dict[str, str],
    fields: str,
    in_params: bool,
    in_activity: bool,
) -> None:
    emulator.configure(run_window_fields=fields)
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    run = aep.item(f"{FLOW}/runs/{run_id}")
    assert ("params" in run) is in_params
    if in_params:
        assert (run["params"]["windowStartTime"], run["params"]["windowEndTime"]) == (start, end)
    copy = run["activities"][0]["durationSummary"]
    assert ("extensions" in copy) is in_activity


def test_the_whole_run_answer_of_post_runs_echoes_params(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    """The draft create-flow-runs page answers the whole run, params and status ``scheduled``."""
    emulator.configure(post_runs_shape="run")
    flow_id = aep.once_flow(batch_setup)
    start, end = _yesterday()
    run = aep.request("POST", f"{FLOW}/runs", _run_body(flow_id, start, end)).json()
    assert run["params"]["windowStartTime"] == start
    assert run["metrics"]["statusSummary"]["status"] == "scheduled"


def test_a_run_can_succeed_with_dropped_rows_and_its_batch_says_so(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    """Adobe's monitoring example: status success with failedRecordCount; the Catalog batch (error
    diagnostics page) keeps status success and lists the row errors."""
    flow_id = aep.once_flow(batch_setup)
    emulator.set_flow_outcome(flow_id, "success", failedRecords=2, partialIngestionPercent=5)
    start, end = _yesterday()
    run_id = aep.created_id("POST", f"{FLOW}/runs", _run_body(flow_id, start, end))
    assert aep.request("GET", f"/data/foundation/catalog/batches/{'X' * 26}").status_code == 404
    emulator.advance_clock(2)
    run = aep.item(f"{FLOW}/runs/{run_id}")
    records = run["metrics"]["recordSummary"]
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert records["failedRecordCount"] == 2
    assert records["outputRecordCount"] == records["inputRecordCount"] - 2
    (target,) = run["activities"][1]["targetInfo"]
    (batch_id,) = target["reference"]["ids"]
    answer = aep.request("GET", f"/data/foundation/catalog/batches/{batch_id}").json()
    batch = answer[batch_id]
    assert batch["status"] == "success"
    assert batch["metrics"]["failedRecordCount"] == 2
    assert batch["relatedObjects"] == [{"type": "dataSet", "id": batch_setup["dataset"]}]
    assert batch["tags"] == {"acp_enableErrorDiagnostics": True, "acp_partialIngestionPercent": 5}
    assert [error["code"] for error in batch["errors"]] == ["INGEST-1212-400"]


def test_catalog_lists_the_batches_runs_wrote_filtered_by_dataset_and_creation_time(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    today = int(time.time()) // DAY * DAY
    for days in (3, 2):
        aep.created_id(
            "POST", f"{FLOW}/runs", _run_body(flow_id, today - days * DAY, today - (days - 1) * DAY)
        )
        # A second apart: two runs started in the same millisecond write batches created at the same
        # moment, and then no batch is created before the newest.
        emulator.advance_clock(1)
    emulator.advance_clock(2)
    listed = aep.request("GET", "/data/foundation/catalog/batches").json()
    assert len(listed) == 2
    assert all(
        batch["relatedObjects"] == [{"type": "dataSet", "id": batch_setup["dataset"]}]
        for batch in listed.values()
    )
    by_dataset = aep.request(
        "GET", "/data/foundation/catalog/batches", params={"dataSet": batch_setup["dataset"]}
    ).json()
    assert set(by_dataset) == set(listed)
    assert aep.request("GET", "/data/foundation/catalog/batches", params={"dataSet": "other"}).json() == {}
    newest = max(batch["created"] for batch in listed.values())
    older = aep.request(
        "GET", "/data/foundation/catalog/batches", params={"createdBefore": str(newest)}
    ).json()
    assert len(older) == 1
    assert aep.request("GET", "/data/foundation/catalog/batches", params={"limit": "0"}).status_code == 400
