"""Failed-row diagnostics through the hook, over real HTTP against the emulator.

``failed_rows(hook, batch_ids, limit)`` reads the batches' row errors (Data Access), follows the file
links, masks secrets; the 30-day expiry, batches without failed rows or diagnostics, and
``AEPGetFailedRowsOperator`` writing the rows to a file.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPError, AEPNotFoundError
from airflow_provider_aep.flow_runs import read_flow_run
from airflow_provider_aep.flow_runs.diagnostics import (
    AEPDiagnosticsExpiredError,
    FailedRow,
    failed_rows,
    parse_lines,
    read_diagnostics,
    read_row,
)
from airflow_provider_aep.hooks.aep import AEPHook
from tests.flow_runs.flow_run_helpers import (
    DAY,
    FAR_FUTURE,
    PAYPAL_SPEC,
    MakeFlow,
    base_connection_body,
    post,
    task_context,
)

CODES = {"1401", "1555"}
EXPORT = "/data/foundation/export"


def _run(
    hook: AEPHook,
    emulator: RunningEmulator,
    flow_id: str,
    failed: int | None,
    errors: list[dict[str, Any]] | None = None,
    days: int = 1,
) -> tuple[str, tuple[str, ...]]:
    """A finished on-demand run of ``flow_id`` over the last ``days`` days that dropped ``failed`` rows."""
    if failed is not None:
        emulator.set_flow_outcome(flow_id, "success", errors=errors, failedRecords=failed)
    today = int(time.time()) // DAY * DAY
    body = {
        "flowId": flow_id,
        "params": {
            "startTime": int(time.time()),
            "windowStartTime": today - days * DAY,
            "windowEndTime": today,
            "deltaColumn": {"name": "Update_Time"},
        },
    }
    run_id = post(hook, "flowservice", "/runs", body)
    emulator.advance_clock(2)
    report = read_flow_run(hook.get_item("flowservice", f"/runs/{run_id}"))
    assert report.raw_status == "success"
    assert len(report.batch_ids) == 1
    return run_id, report.batch_ids


def test_failed_rows_are_the_rows_a_successful_run_dropped(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=7)
    rows = failed_rows(hook, batch_ids, 100)
    assert len(rows) == 7
    assert all(isinstance(row, FailedRow) for row in rows)
    for row in rows:
        assert row.batch_id == batch_ids[0]
        assert row.file in ("conversion_errors_0.json", "parsing_errors_0.json")
        assert len(row.codes) == 1
        assert row.codes[0] in CODES
        assert row.messages[0]
        assert batch_ids[0] in str(row)
        assert row.codes[0] in str(row)
    # a conversion error's record is the source row (JSON); a parsing error's the text AEP kept
    for row in rows:
        if row.codes == ("1555",):
            assert isinstance(row.record, dict)
            assert row.record["Product_Id"].startswith("P-")
        else:
            assert isinstance(row.record, str)
            assert row.record.startswith("{Product_Id: ")
    assert failed_rows(hook, list(batch_ids), 100) == rows  # deterministic


def test_the_limit_counts_over_every_batch_and_stops_reading(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow_id = make_flow(start_time=FAR_FUTURE)
    _, first = _run(hook, aep, flow_id, failed=5)
    _, second = _run(hook, aep, flow_id, failed=4)
    assert len(failed_rows(hook, first + second, 100)) == 9
    three = failed_rows(hook, first + second, 3)
    assert len(three) == 3
    assert {row.batch_id for row in three} == set(first)
    six = failed_rows(hook, [*first, *second, *first], 6)  # a repeated id is read once
    assert [row.batch_id for row in six] == [first[0]] * 5 + [second[0]]
    assert failed_rows(hook, first, 0) == []
    assert failed_rows(hook, first[0], 2) == failed_rows(hook, first, 2)  # a single id as a string


def test_many_rows_are_read_across_numbered_files(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=2100, days=150)
    (batch,) = read_diagnostics(hook, batch_ids, 5000)
    assert "conversion_errors_1.json" in batch.files
    assert len(batch.rows) == 2100
    assert {row.file for row in batch.rows} == set(batch.files)


def test_a_batch_without_failed_rows_gives_none_and_says_why(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, caplog: pytest.LogCaptureFixture
) -> None:
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=None)
    with caplog.at_level(logging.INFO, logger="airflow_provider_aep.flow_runs.diagnostics"):
        assert failed_rows(hook, batch_ids, 10) == []
    (batch,) = read_diagnostics(hook, batch_ids, 10)
    assert batch.note is not None
    assert "has no failed rows" in batch.note
    assert "has no failed rows" in caplog.text


def test_a_batch_without_error_diagnostics_gives_none_and_says_why(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    errors = [{"code": "INGEST-1211-400", "message": "Resend the data with error diagnostics enabled."}]
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=3, errors=errors)
    assert failed_rows(hook, batch_ids, 10) == []
    (batch,) = read_diagnostics(hook, batch_ids, 10)
    assert batch.note is not None
    assert "error diagnostics were not enabled" in batch.note


def test_an_unknown_batch_gives_none(aep: RunningEmulator, hook: AEPHook) -> None:
    assert failed_rows(hook, ["X" * 26], 10) == []
    (batch,) = read_diagnostics(hook, ["X" * 26], 10)
    assert batch.known is False


def test_diagnostics_older_than_30_days_fail_with_the_retention_rule(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=4)
    aep.advance_clock(29 * DAY)
    assert len(failed_rows(hook, batch_ids, 10)) == 4
    aep.advance_clock(2 * DAY)
    with pytest.raises(AEPDiagnosticsExpiredError, match="diagnostics are kept 30 days") as raised:
        failed_rows(hook, batch_ids, 10)
    assert isinstance(raised.value, AEPError)
    assert batch_ids[0] in str(raised.value)
    assert "4 row(s)" in str(raised.value)


def test_other_api_errors_are_raised(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> None:
    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=2)
    aep.add_faults([{"path": f"{EXPORT}/batches/", "status": 403, "times": 1}])
    with pytest.raises(AEPError) as raised:
        failed_rows(hook, batch_ids, 10)
    assert not isinstance(raised.value, AEPNotFoundError)
    assert raised.value.status == 403  # type: ignore[attr-defined]
    # a 503 is repeated by the hook, then the rows come
    aep.add_faults([{"path": f"{EXPORT}/batches/", "status": 503, "times": 1, "retry_after": 0}])
    assert len(failed_rows(hook, batch_ids, 10)) == 2


def _flow_with_secret_columns(hook: AEPHook, make_flow: MakeFlow) -> str:
    """A dataflow whose source connection reads two secret-named columns (seed 001 lists its columns)."""
    flow_id = make_flow(start_time=FAR_FUTURE)
    flow = hook.get_item("flowservice", f"/flows/{flow_id}")
    source_id = flow["sourceConnectionIds"][0]
    source = hook.get_item("flowservice", f"/sourceConnections/{source_id}")
    base = post(hook, "flowservice", "/connections", base_connection_body("secret columns"))
    columns = [
        {"name": name, "type": "string", "xdm": {"type": "string"}}
        for name in ("Product_Id", "Product_Name", "Api_Key", "Customer_Password", "Update_Time")
    ]
    new_source = post(
        hook,
        "flowservice",
        "/sourceConnections",
        {
            "name": "PayPal source with secret columns",
            "baseConnectionId": base,
            "data": {"format": "tabular"},
            "params": {"tableName": source["params"]["tableName"], "columns": columns},
            "connectionSpec": PAYPAL_SPEC,
        },
    )
    etag = flow["etag"]
    hook.request(
        "PATCH",
        "flowservice",
        f"/flows/{flow_id}",
        json=[{"op": "replace", "path": "/sourceConnectionIds", "value": [new_source]}],
        headers={"If-Match": etag},
    )
    return flow_id


def _raw_error_lines(emulator: RunningEmulator, hook: AEPHook, batch_id: str) -> list[dict[str, Any]]:
    """The error files as the emulator sends them (read by hand, not by the provider)."""
    headers = {
        "Authorization": f"Bearer {hook.access_token()}",
        "x-api-key": emulator.client_id,
        "x-gw-ims-org-id": emulator.org_id,
        "x-sandbox-name": "prod",
    }
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        listing = client.get(f"{EXPORT}/batches/{batch_id}/meta", params={"path": "row_errors"}).json()
        return [
            json.loads(line)
            for entry in listing["data"]
            for line in client.get(entry["_links"]["self"]["href"]).text.splitlines()
        ]


def test_secret_values_are_masked_and_never_logged(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = _flow_with_secret_columns(hook, make_flow)
    _, batch_ids = _run(hook, aep, flow_id, failed=8)
    raw = _raw_error_lines(aep, hook, batch_ids[0])
    secrets = set()
    for line in raw:
        text = line["_corrupt_record"]
        for name in ("api_key", "customer_password"):
            start = text.index(f"{name}-")
            secrets.add(text[start : start + len(name) + 17])
    assert len(secrets) == 16
    with caplog.at_level(logging.DEBUG):
        rows = failed_rows(hook, batch_ids, 100)
        for row in rows:
            logging.getLogger("test").error("Failed row: %s", row)
    assert len(rows) == 8
    written = json.dumps([row.as_dict() for row in rows]) + "".join(str(row) for row in rows)
    for secret in secrets:
        assert secret not in written
        assert secret not in caplog.text
    for row in rows:
        shown = json.dumps(row.record)
        assert "Api_Key" in shown
        assert "***" in shown
        if isinstance(row.record, dict):
            assert row.record["Api_Key"] == "***"
            assert row.record["Customer_Password"] == "***"
            assert row.record["Product_Id"].startswith("P-")
    # and Airflow's secret masker knows every one of them
    from airflow.sdk._shared.secrets_masker import redact

    for secret in secrets:
        assert redact(f"value {secret}") == "value ***"


@pytest.mark.parametrize(
    ("corrupt", "hidden", "kept"),
    [
        ('{user: "ann", password: "hunter2-x", note: "ok"}', "hunter2-x", 'note: "ok"'),
        ("token=abc123def&page=2", "abc123def", "page=2"),
        ('{"nested": {"clientSecret": {"v": "deep-secret"}}, "id": 1}', "deep-secret", '"id": 1'),
        ("https://acct.blob.core.windows.net/c?sv=2020&sig=SIGNATURE123", "SIGNATURE123", ""),
        ("{'apiKey': 'k-12345', 'name': 'x'}", "k-12345", "'name': 'x'"),
    ],
)
def test_masking_covers_text_that_is_not_json(corrupt: str, hidden: str, kept: str) -> None:
    line = {
        "_corrupt_record": corrupt,
        "_errors": [{"code": "1401", "message": f"cannot read value {hidden}"}],
        "_filename": "parsing_errors_0.json",
    }
    row = read_row("B1", "parsing_errors_0.json", line)
    shown = json.dumps(row.as_dict())
    assert hidden not in shown
    assert hidden not in str(row)
    assert kept.replace('"', '\\"') in shown or kept in shown


def test_error_files_are_read_however_the_hook_hands_them_over() -> None:
    one = {"_corrupt_record": "{}", "_errors": [{"code": "1401", "message": "m"}], "_filename": "f"}
    assert parse_lines(one) == [one]  # a one-line file is parsed whole by the hook
    assert parse_lines([one, 3]) == [one]
    text = json.dumps(one) + "\n\nnot json\n" + json.dumps(one, indent=2) + "\n"
    assert parse_lines(text) == [one, one]  # JSON Lines, a pretty-printed object, a bad line skipped
    assert parse_lines(None) == []


def test_the_operator_writes_a_run_s_failed_rows_as_json_lines(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, tmp_path: Path
) -> None:
    from airflow_provider_aep.operators import AEPGetFailedRowsOperator

    run_id, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=6)
    target = tmp_path / "out" / "failed.jsonl"
    operator = AEPGetFailedRowsOperator(task_id="rows", flow_run_id=run_id, output_path=str(target))
    result = operator.execute(task_context(0, 0))
    assert result == {"path": str(target), "count": 6, "batch_ids": list(batch_ids)}
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 6
    assert {line["batch_id"] for line in lines} == set(batch_ids)
    assert all(set(line["codes"]) <= CODES and line["codes"] for line in lines)
    assert lines == [row.as_dict() for row in failed_rows(hook, batch_ids, 100)]


def test_the_operator_writes_given_batches_to_object_storage_with_a_limit(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, tmp_path: Path
) -> None:
    from airflow_provider_aep.operators import AEPGetFailedRowsOperator

    _, batch_ids = _run(hook, aep, make_flow(start_time=FAR_FUTURE), failed=6)
    uri = f"file://{tmp_path}/store/rows.jsonl"
    operator = AEPGetFailedRowsOperator(
        task_id="rows", batch_ids=",".join(batch_ids), output_path=uri, limit=4
    )
    result = operator.execute(task_context(0, 0))
    assert result["count"] == 4
    assert result["path"].endswith("/store/rows.jsonl")
    assert len((tmp_path / "store" / "rows.jsonl").read_text().splitlines()) == 4


def test_the_operator_fails_on_an_unknown_batch_and_bad_arguments(
    aep: RunningEmulator, tmp_path: Path
) -> None:
    from airflow_provider_aep.exceptions import AEPConfigError
    from airflow_provider_aep.operators import AEPGetFailedRowsOperator

    operator = AEPGetFailedRowsOperator(task_id="rows", batch_ids=["NOPE"], output_path=str(tmp_path / "x"))
    with pytest.raises(AEPError, match="Catalog does not know the batch"):
        operator.execute(task_context(0, 0))
    for kwargs in (
        {},
        {"flow_run_id": "r", "batch_ids": ["b"]},
        {"flow_run_id": "r", "limit": 0},
        {"flow_run_id": "r", "limit": True},
    ):
        with pytest.raises(AEPConfigError):
            AEPGetFailedRowsOperator(task_id="bad", output_path="x", **kwargs)
    with pytest.raises(AEPConfigError):
        AEPGetFailedRowsOperator(task_id="bad", flow_run_id="r", output_path=" ")


def test_the_operator_imports_neither_the_hook_nor_the_reading_code() -> None:
    """DAG files are parsed constantly: the operator loads the hook and the diagnostics when it runs."""
    import subprocess
    import sys

    code = (
        "import sys, airflow.sdk\n"
        "from airflow_provider_aep.operators import AEPGetFailedRowsOperator\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('airflow_provider_aep'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "airflow_provider_aep.operators.diagnostics" in loaded
    for heavy in ("hooks.aep", "flow_runs.diagnostics", "flow_runs.interpretation", "models.flows"):
        assert f"airflow_provider_aep.{heavy}" not in loaded
