"""The one interpretation of a flow run, without I/O: statuses, errors, windows, fail closed."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_aep.flow_runs import (
    AEPFlowRunStatus,
    FlowRunReport,
    Outcome,
    interpret,
    interpret_window,
    read_flow_run,
)


def run_item(status: str | None, errors: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {} if status is None else {"status": status}
    if errors:
        summary["errors"] = errors
    return {
        "id": "run-1",
        "flowId": "flow-1",
        "metrics": {
            "statusSummary": summary,
            "recordSummary": {"inputRecordCount": 10, "outputRecordCount": 8, "failedRecordCount": 2},
            "durationSummary": {"startedAtUTC": 1700000000000, "completedAtUTC": 1700000060000},
        },
        **extra,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("success", AEPFlowRunStatus.SUCCESS),
        ("SUCCESS", AEPFlowRunStatus.SUCCESS),
        ("Failed", AEPFlowRunStatus.FAILED),
        ("inProgress", AEPFlowRunStatus.IN_PROGRESS),
        ("IN_PROGRESS", AEPFlowRunStatus.IN_PROGRESS),
        ("PARTIAL_SUCCESS", AEPFlowRunStatus.PARTIAL_SUCCESS),
        ("partialSuccess", AEPFlowRunStatus.PARTIAL_SUCCESS),
        ("PARTIAL_FAILURE", AEPFlowRunStatus.PARTIAL_FAILURE),
        ("QUEUED", AEPFlowRunStatus.QUEUED),
        ("scheduled", AEPFlowRunStatus.SCHEDULED),
        ("COMPLETED", AEPFlowRunStatus.COMPLETED),
        ("successful", None),
        ("", None),
    ],
)
def test_every_documented_spelling_is_recognised(raw: str, expected: AEPFlowRunStatus | None) -> None:
    assert AEPFlowRunStatus.parse(raw) is expected


@pytest.mark.parametrize(
    ("status", "allow_partial", "outcome"),
    [
        ("success", False, Outcome.SUCCESS),
        ("SUCCESS", False, Outcome.SUCCESS),
        ("failed", False, Outcome.FAILURE),
        ("FAILED", False, Outcome.FAILURE),
        ("partialSuccess", False, Outcome.FAILURE),
        ("partialSuccess", True, Outcome.SUCCESS),
        ("PARTIAL_FAILURE", False, Outcome.FAILURE),
        ("PARTIAL_FAILURE", True, Outcome.SUCCESS),
        ("COMPLETED", False, Outcome.FAILURE),
        ("scheduled", False, Outcome.RUNNING),
        ("QUEUED", False, Outcome.RUNNING),
        ("inProgress", False, Outcome.RUNNING),
        (None, False, Outcome.RUNNING),
        ("cancelled", False, Outcome.UNKNOWN),
    ],
)
def test_only_a_known_success_succeeds(status: str | None, allow_partial: bool, outcome: Outcome) -> None:
    verdict = interpret(read_flow_run(run_item(status)), allow_partial_success=allow_partial)
    assert verdict.outcome is outcome
    assert verdict.failed is (outcome in (Outcome.FAILURE, Outcome.UNKNOWN))


def test_failure_message_names_run_status_errors_and_counts() -> None:
    errors = [{"code": "CONNECTOR-1001-500", "message": "Delta column is not a date-time column"}]
    verdict = interpret(read_flow_run(run_item("failed", errors)))
    assert verdict.failed
    for expected in ("run-1", "failed", "CONNECTOR-1001-500", "Delta column", "failedRecordCount 2"):
        assert expected in verdict.message


def test_unknown_status_is_named() -> None:
    verdict = interpret(read_flow_run(run_item("cancelled")))
    assert verdict.outcome is Outcome.UNKNOWN
    assert "'cancelled'" in verdict.message


def test_success_with_errors_succeeds_with_a_warning() -> None:
    errors = [{"code": "INGEST-1212-400", "message": "2 rows skipped"}]
    verdict = interpret(read_flow_run(run_item("success", errors)))
    assert verdict.outcome is Outcome.SUCCESS
    assert verdict.warning is not None
    assert "INGEST-1212-400" in verdict.warning


@pytest.mark.parametrize("key", ["activities", "activites"])
def test_activity_errors_are_read_under_both_spellings(key: str) -> None:
    activity: dict[str, Any] = {
        "name": "Mapping",
        "statusSummary": {
            "status": "failed",
            "extensions": {"errors": [{"code": "MAPPER-3700-400", "message": "bad row"}]},
        },
    }
    report = read_flow_run(run_item("failed", **{key: [activity]}))
    assert [(e.code, e.source) for e in report.errors] == [("MAPPER-3700-400", "Mapping")]
    assert "MAPPER-3700-400 [Mapping]: bad row" in interpret(report).message


def test_report_survives_a_trigger_event_round_trip() -> None:
    report = read_flow_run(
        run_item(
            "failed",
            [{"code": "X-1", "message": "m"}],
            params={"windowStartTime": "100", "windowEndTime": 200},
        )
    )
    assert FlowRunReport.from_event(report.to_event()) == report
    assert (report.window_start, report.window_end) == (100, 200)


def window_run(run_id: str, start: int, end: int, status: str) -> FlowRunReport:
    return read_flow_run(
        {
            "id": run_id,
            "params": {"windowStartTime": start, "windowEndTime": end},
            "metrics": {"statusSummary": {"status": status}},
        }
    )


def test_window_waits_until_runs_reach_its_end() -> None:
    first_half = window_run("a", 0, 50, "success")
    assert interpret_window([first_half], 0, 100).outcome is Outcome.RUNNING
    second_half = window_run("b", 50, 100, "inProgress")
    assert interpret_window([first_half, second_half], 0, 100).outcome is Outcome.RUNNING
    done = window_run("b", 50, 100, "success")
    verdict = interpret_window([first_half, done, window_run("other", 100, 200, "failed")], 0, 100)
    assert verdict.outcome is Outcome.SUCCESS
    assert [r.run_id for r in verdict.reports] == ["a", "b"]


def test_window_fails_when_any_covering_run_failed() -> None:
    runs = [window_run("a", 0, 50, "failed"), window_run("b", 50, 100, "inProgress")]
    verdict = interpret_window(runs, 0, 100)
    assert verdict.failed
    assert "a" in verdict.message


def test_window_without_runs_keeps_waiting() -> None:
    assert interpret_window([], 0, 100).outcome is Outcome.RUNNING


def test_the_window_is_read_from_the_copy_activity_in_milliseconds() -> None:
    """Adobe's monitoring example: ``activities[].durationSummary.extensions`` (epoch ms), no params."""
    item = run_item(
        "success",
        activities=[
            {
                "id": "copyActivity",
                "durationSummary": {"extensions": {"windowStart": 1596653708000, "windowEnd": 1596655508000}},
            },
            {"id": "promotionActivity", "durationSummary": {}},
        ],
    )
    report = read_flow_run(item)
    assert (report.window_start, report.window_end) == (1596653708, 1596655508)


def test_the_activity_window_wins_over_params_and_half_a_window_is_none() -> None:
    both = run_item(
        "success",
        activities=[{"durationSummary": {"extensions": {"windowStart": 100_000, "windowEnd": 200_000}}}],
        params={"windowStartTime": "1", "windowEndTime": "2"},
    )
    assert (read_flow_run(both).window_start, read_flow_run(both).window_end) == (100, 200)
    half = run_item("success", params={"windowStartTime": "1"})
    assert (read_flow_run(half).window_start, read_flow_run(half).window_end) == (None, None)


T0 = 1_700_000_000  # epoch seconds of the window start in the window-less tests


def timed_run(run_id: str, created_s: int, status: str) -> FlowRunReport:
    """A run that shows no window (help/dataflows/api/monitor.md), created ``created_s`` after ``T0``."""
    return read_flow_run(
        {"id": run_id, "createdAt": (T0 + created_s) * 1000, "metrics": {"statusSummary": {"status": status}}}
    )


def test_runs_without_a_window_cover_it_up_to_the_first_run_at_its_end() -> None:
    """An incremental run ingests what arrived since the run before it: the window [T0, T0 + 100) is
    complete when a run at or after its end succeeded, and every run after its start up to that one
    counts."""
    window = (T0, T0 + 100)
    before = timed_run("before", 0, "failed")  # ran at the window start: data before it
    inside = timed_run("inside", 50, "success")
    closing = timed_run("closing", 100, "success")
    later = timed_run("later", 200, "failed")  # holds data after the window only
    verdict = interpret_window([later, closing, inside, before], *window)
    assert verdict.outcome is Outcome.SUCCESS
    assert [r.run_id for r in verdict.reports] == ["inside", "closing"]
    assert interpret_window([before, inside], *window).outcome is Outcome.RUNNING
    failed_inside = timed_run("inside", 50, "failed")
    assert interpret_window([failed_inside, closing], *window).outcome is Outcome.FAILURE


def test_batch_ids_come_from_the_promotion_activitys_target_info() -> None:
    """Adobe's monitoring example: ``targetInfo[].reference`` of type ``Batch`` names the batch written."""
    item = run_item(
        "success",
        activities=[
            {"id": "copyActivity", "sourceInfo": [{"reference": {"type": "AdfRunId", "ids": ["adf"]}}]},
            {
                "id": "promotionActivity",
                "targetInfo": [
                    {
                        "id": "t1",
                        "type": "TargetConnection",
                        "reference": {"type": "Batch", "ids": ["B1", "B2"]},
                    },
                    {"id": "t2", "type": "TargetConnection", "reference": {"type": "Batch", "ids": ["B1"]}},
                ],
            },
        ],
    )
    report = read_flow_run(item)
    assert report.batch_ids == ("B1", "B2")
    assert FlowRunReport.from_event(report.to_event()).batch_ids == ("B1", "B2")
