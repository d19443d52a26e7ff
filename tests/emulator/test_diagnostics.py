"""Data Access error diagnostics of the batches runs write (help/ingestion/quality/error-diagnostics.md).

Every call goes over real HTTP with the Platform headers; the rows are checked against the run's
window and ``failedRecordCount``. Data Access has no vendored spec, so ``test_fuzz.py`` does not reach
it: the last tests here feed it malformed input the same way (never a 5xx, the service's own 400).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from aep_emulator.diagnostics import RETENTION_SECONDS, ROWS_PER_FILE, SAMPLE_ROWS
from aep_emulator.testing import RunningEmulator

from .platform import FLOW, PAYPAL_SPEC, PlatformClient

EXPORT = "/data/foundation/export"
DAY = 86400
CODES = {"1401", "1555"}


def _window(days: int = 1) -> tuple[int, int]:
    today = int(time.time()) // DAY * DAY
    return today - days * DAY, today


def _finished_run(
    aep: PlatformClient,
    emulator: RunningEmulator,
    setup: dict[str, Any],
    failed: int | None,
    days: int = 1,
    errors: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], str, tuple[int, int]]:
    """A finished on-demand run over the last ``days`` days that dropped ``failed`` rows; its batch id."""
    flow_id = aep.once_flow(setup)
    if failed is not None:
        emulator.set_flow_outcome(flow_id, "success", errors=errors, failedRecords=failed)
    start, end = _window(days)
    body = {
        "flowId": flow_id,
        "params": {
            "startTime": int(time.time()),
            "windowStartTime": start,
            "windowEndTime": end,
            "deltaColumn": {"name": "Update_Time"},
        },
    }
    run_id = aep.created_id("POST", f"{FLOW}/runs", body)
    emulator.advance_clock(2)
    run = aep.item(f"{FLOW}/runs/{run_id}")
    assert run["metrics"]["statusSummary"]["status"] == "success"
    (target,) = run["activities"][1]["targetInfo"]
    (batch_id,) = target["reference"]["ids"]
    return run, batch_id, (start, end)


def _meta(aep: PlatformClient, batch_id: str, **params: str) -> httpx.Response:
    return aep.request("GET", f"{EXPORT}/batches/{batch_id}/meta", params=params)


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _error_files(aep: PlatformClient, batch_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every error file the ``row_errors`` listing names, read by following its ``href``."""
    listing = _meta(aep, batch_id, path="row_errors")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["_page"] == {"limit": 100, "count": len(body["data"])}
    files = {}
    for entry in body["data"]:
        href = entry["_links"]["self"]["href"]
        assert href.startswith(f"{aep.emulator.url}{EXPORT}/batches/{batch_id}/meta?path=row_errors%2F")
        content = aep.request("GET", href)
        assert entry["length"] == str(len(content.content))
        files[entry["name"]] = _lines(content)
    return files


def test_row_errors_list_the_files_holding_exactly_the_dropped_rows(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    run, batch_id, (start, end) = _finished_run(aep, emulator, batch_setup, failed=7)
    assert run["metrics"]["recordSummary"]["failedRecordCount"] == 7
    files = _error_files(aep, batch_id)
    assert set(files) <= {"conversion_errors_0.json", "parsing_errors_0.json"}
    rows = [row for lines in files.values() for row in lines]
    assert len(rows) == 7
    for name, lines in files.items():
        for row in lines:
            assert set(row) == {"_corrupt_record", "_errors", "_filename"}
            assert row["_filename"] == name
            (error,) = row["_errors"]
            assert error["code"] == ("1555" if name.startswith("conversion") else "1401")
            assert error["message"]
    # conversion errors hold the source row (JSON, a required field null), in the run's window
    for row in files.get("conversion_errors_0.json", []):
        record = json.loads(row["_corrupt_record"])
        assert record["Product_Id"].startswith("P-")
        assert record["Product_Name"] is None
        updated = record["Update_Time"]
        assert start <= _epoch(updated) < end
    # parsing errors hold a row that cannot be parsed (unquoted keys, as the document's example)
    for row in files.get("parsing_errors_0.json", []):
        assert row["_corrupt_record"].startswith("{Product_Id: ")
        with pytest.raises(json.JSONDecodeError):
            json.loads(row["_corrupt_record"])
    # deterministic: the same answer again
    assert _error_files(aep, batch_id) == files


def _epoch(iso: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(iso).timestamp()


def test_the_same_source_rows_fail_in_every_run_over_a_window(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, first, _ = _finished_run(aep, emulator, batch_setup, failed=5)
    _, second, _ = _finished_run(aep, emulator, batch_setup, failed=5)
    assert first != second
    ids = [
        [row["_corrupt_record"] for lines in _error_files(aep, batch).values() for row in lines]
        for batch in (first, second)
    ]
    assert ids[0] == ids[1]


def test_many_dropped_rows_are_split_into_numbered_files(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    run, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=2100, days=150)
    assert run["metrics"]["recordSummary"]["failedRecordCount"] == 2100
    files = _error_files(aep, batch_id)
    assert "conversion_errors_1.json" in files
    assert all(len(lines) <= ROWS_PER_FILE for lines in files.values())
    assert sum(len(lines) for lines in files.values()) == 2100
    assert len({row["_corrupt_record"] for lines in files.values() for row in lines}) == 2100


def test_samples_are_the_first_rows_under_both_documented_names(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=12)
    files = _error_files(aep, batch_id)
    rows = [row for name in sorted(files) for row in files[name]]
    first = _lines(_meta(aep, batch_id, path="row_error_samples.json"))
    assert first == _lines(_meta(aep, batch_id, path="row_errors_sample.json"))
    assert len(first) == SAMPLE_ROWS
    assert all(row in rows for row in first)


def test_input_files_and_the_meta_directory(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=3)
    listing = _meta(aep, batch_id, path="input_files").json()
    (entry,) = listing["data"]
    assert entry["name"] == "fileMetaData1.json"
    content = aep.request("GET", entry["_links"]["self"]["href"])
    assert _lines(content) == [{"path": "PayPal.Catalog_Products"}]
    root = _meta(aep, batch_id).json()
    assert [item["name"] for item in root["data"]] == ["input_files", "row_errors", "row_error_samples.json"]
    page = _meta(aep, batch_id, limit="1").json()
    assert [item["name"] for item in page["data"]] == ["input_files"]
    rest = aep.request("GET", page["_links"]["next"]["href"]).json()
    assert [item["name"] for item in rest["data"]] == ["row_errors"]


def test_a_batch_without_failed_rows_has_no_row_errors(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=None)
    for path in ("row_errors", "row_error_samples.json", "row_errors/conversion_errors_0.json"):
        answer = _meta(aep, batch_id, path=path)
        assert answer.status_code == 404, answer.text
        assert answer.json()["type"].endswith("/errors/EXPORT-404")
    assert _meta(aep, batch_id, path="input_files").status_code == 200


def test_a_batch_that_dropped_rows_without_diagnostics_has_no_row_errors(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    """error-diagnostics.md: without diagnostics the batch has the single error INGEST-1211-400."""
    errors = [{"code": "INGEST-1211-400", "message": "Resend the data with error diagnostics enabled."}]
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=3, errors=errors)
    batch = aep.request("GET", f"/data/foundation/catalog/batches/{batch_id}").json()[batch_id]
    assert batch["metrics"]["failedRecordCount"] == 3
    assert [error["code"] for error in batch["errors"]] == ["INGEST-1211-400"]
    assert _meta(aep, batch_id, path="row_errors").status_code == 404
    assert _meta(aep, batch_id, path="input_files").status_code == 200


def test_diagnostics_expire_30_days_after_the_batch_completed(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=4)
    emulator.advance_clock(RETENTION_SECONDS - 60)
    aep.token = aep.fetch_token()  # tokens expire on the emulated clock too
    assert _meta(aep, batch_id, path="row_errors").status_code == 200
    emulator.advance_clock(120)
    aep.token = aep.fetch_token()
    for path in ("row_errors", "input_files", "row_errors/conversion_errors_0.json"):
        answer = _meta(aep, batch_id, path=path)
        assert answer.status_code == 404
        body = answer.json()
        assert body["status"] == 404
        assert body["type"].endswith("/errors/EXPORT-404")
    # Catalog still has the batch and its failed count
    batch = aep.request("GET", f"/data/foundation/catalog/batches/{batch_id}").json()[batch_id]
    assert batch["metrics"]["failedRecordCount"] == 4


def test_unknown_and_unfinished_batches_are_404(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    assert _meta(aep, "X" * 26, path="row_errors").status_code == 404
    flow_id = aep.once_flow(batch_setup)
    start, end = _window()
    params = {"startTime": int(time.time()), "windowStartTime": start, "windowEndTime": end}
    body = {"flowId": flow_id, "params": {**params, "deltaColumn": {"name": "Update_Time"}}}
    run_id = aep.created_id("POST", f"{FLOW}/runs", body)
    batch_id = next(run for run in emulator.state()["prod"]["runs"] if run["id"] == run_id)["plan"]["batchId"]
    assert _meta(aep, batch_id, path="input_files").status_code == 404


def test_a_declared_column_the_table_lacks_gets_a_deterministic_value(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    columns = [{"name": name, "type": "string"} for name in ("Product_Id", "Product_Name", "Api_Key")]
    source = aep.created_id(
        "POST",
        f"{FLOW}/sourceConnections",
        {
            "name": "PayPal source with columns",
            "baseConnectionId": batch_setup["base"],
            "data": {"format": "tabular"},
            "params": {"tableName": "PayPal.Catalog_Products", "columns": columns},
            "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
        },
    )
    _, batch_id, _ = _finished_run(aep, emulator, {**batch_setup, "source": source}, failed=6)
    rows = [row for lines in _error_files(aep, batch_id).values() for row in lines]
    assert len(rows) == 6
    for row in rows:
        assert "Api_Key" in row["_corrupt_record"]
        assert "Update_Time" not in row["_corrupt_record"]


# -- malformed input: never a 5xx (Data Access has no vendored spec, so test_fuzz.py cannot reach it) --

ODD_VALUES = [
    "",
    "x" * 2000,
    "ünïcødé-✓-名前",
    "\x00",
    "..",
    "../..",
    "row_errors/../input_files",
    "row_errors//conversion_errors_0.json",
    "/row_errors/",
    "row_errors%2Fconversion_errors_0.json",
    "input_files/fileMetaData1.json/x",
    "'\"<>`{}",
    "%ZZ",
    "-1",
    "null",
]
ODD_IDS = ["x" * 2000, "ünïcødé", "%00", "..", "%2E%2E", "a%2Fb", "'\"<>`{}", "%ZZ", "-1", "null"]


def test_malformed_input_is_never_a_server_error(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=3)
    failures = []
    for value in ODD_VALUES:
        for name in ("path", "limit", "start"):
            answer = _meta(aep, batch_id, **{name: value})
            if answer.status_code >= 500 or answer.status_code not in (200, 400, 404):
                failures.append(f"{name}={value!r}: {answer.status_code}")
    for odd in ODD_IDS:
        for path in ("row_errors", "input_files", ""):
            answer = aep.request("GET", f"{EXPORT}/batches/{odd}/meta?path={path}")
            if answer.status_code >= 500:
                failures.append(f"id {odd!r}: {answer.status_code}")
    for limit in ("0", "101", "-1", "abc", "1e3", "9" * 40):
        answer = _meta(aep, batch_id, path="row_errors", limit=limit)
        assert answer.status_code == 400, (limit, answer.text)
        assert answer.json()["type"].endswith("/errors/EXPORT-400")
    assert not failures, failures


def test_the_gateway_guards_data_access_and_other_methods_are_refused(
    aep: PlatformClient, emulator: RunningEmulator, raw_http: httpx.Client, batch_setup: dict[str, Any]
) -> None:
    _, batch_id, _ = _finished_run(aep, emulator, batch_setup, failed=2)
    bare = raw_http.get(f"{EXPORT}/batches/{batch_id}/meta", params={"path": "row_errors"})
    assert bare.status_code == 403
    assert bare.json()["error_code"] == "403010"
    other = aep.request("GET", f"{EXPORT}/batches/{batch_id}/meta", headers={"x-sandbox-name": "dev"})
    assert other.status_code == 404  # each sandbox is isolated
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert aep.request(method, f"{EXPORT}/batches/{batch_id}/meta").status_code == 405
