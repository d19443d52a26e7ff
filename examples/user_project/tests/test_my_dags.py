"""Our DAGs, end to end against the offline AEP emulator (fixtures of the aep_emulator pytest plugin)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from aep_emulator.airflow_testing import AirflowDagTester
from aep_emulator.faults import FaultRule
from aep_emulator.testing import RunningEmulator, run_status, run_window

HOUR = 3600


def midnight(day: date) -> int:
    """Epoch seconds of a day's start, UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def days_ago(days: int) -> date:
    """A recent day: the emulator's PayPal sample data covers the last 400 days."""
    return datetime.now(timezone.utc).date() - timedelta(days=days)


def test_the_daily_dag_ingests_its_own_day(
    aep_emulator: RunningEmulator, aep_airflow: AirflowDagTester
) -> None:
    day = days_ago(3)
    result = aep_airflow.run("paypal_products_daily", day)
    assert result.succeeded, result.output_tail()
    assert result.failed_tasks() == []

    # AEP now holds our dataflow, and one on-demand run over the DAG run's day, which succeeded
    [flow] = aep_emulator.dataflows()
    assert flow["name"] == "Shop products dataflow"
    [run] = [run for run in aep_emulator.runs(flow["id"]) if run["runKind"] == "onDemand"]
    assert run_status(run) == "success"
    assert run_window(run) == (midnight(day - timedelta(days=1)), midnight(day))

    # what landed: the run's Catalog batch is in our dataset, with the records the last task reported
    assert result.xcom("run_and_wait.run_window", "flow_run_id") == run["id"]
    [batch_id] = [batch["id"] for batch in result.xcom("run_and_wait.wait_for_run", "run_report")["batches"]]
    [dataset] = aep_emulator.datasets()
    [batch] = [batch for batch in aep_emulator.batches(dataset["id"]) if batch["id"] == batch_id]
    assert batch["status"] == "success"
    assert result.xcom("report_landed") == {
        "read": batch["metrics"]["inputRecordCount"],
        "written": batch["metrics"]["outputRecordCount"],
        "batches": 1,
    }
    assert batch["metrics"]["outputRecordCount"] > 0


def test_the_daily_dag_fails_when_aep_drops_rows(
    aep_emulator: RunningEmulator, aep_airflow: AirflowDagTester
) -> None:
    assert aep_airflow.run("paypal_products_daily", days_ago(3)).succeeded  # sets the dataflow up
    [flow] = aep_emulator.dataflows()
    # AEP says "success" but drops 2 rows of every later run of this dataflow
    aep_emulator.set_flow_outcome(flow["id"], "success", failedRecords=2)

    result = aep_airflow.run("paypal_products_daily", days_ago(2))
    assert result.state == "failed"
    assert result.task_states["run_and_wait.wait_for_run"] == "failed"
    assert result.task_states["report_landed"] == "upstream_failed"
    assert result.xcom("run_and_wait.wait_for_run", "run_report")["records"]["failed"] == 2


def test_a_lost_answer_to_the_dataflow_create_makes_no_duplicate(
    aep_emulator: RunningEmulator, aep_airflow: AirflowDagTester
) -> None:
    # AEP creates the dataflow but the answer never reaches us (a gateway timeout after the commit)
    aep_emulator.add_faults(
        [FaultRule(path="/data/foundation/flowservice/flows", method="POST", status=504, after_commit=True)]
    )
    result = aep_airflow.run("paypal_products_daily", days_ago(3))
    assert result.succeeded, result.output_tail()
    assert len(aep_emulator.dataflows()) == 1
    creates = [r for r in aep_emulator.requests() if r["method"] == "POST" and r["path"].endswith("/flows")]
    assert [r["status"] for r in creates] == [504]  # the retry found it by name instead of creating again


def test_aep_runs_the_hourly_dataflow_on_its_own_clock(
    aep_emulator: RunningEmulator, aep_airflow: AirflowDagTester
) -> None:
    first_run_at = int(aep_emulator.now()) // HOUR * HOUR + 2 * HOUR  # a full hour, well ahead
    result = aep_airflow.run("paypal_products_hourly_in_aep", conf={"first_run_at": first_run_at})
    assert result.succeeded, result.output_tail()
    [flow] = aep_emulator.dataflows()
    assert flow["scheduleParams"]["startTime"] == first_run_at
    assert aep_emulator.runs(flow["id"]) == []  # AEP runs nothing before the start time

    # at the start time AEP runs it: the first run ingests the history before it (backfill)
    aep_emulator.advance_clock_to(first_run_at + 60)
    [first] = aep_emulator.runs(flow["id"])
    assert run_status(first) == "success"
    assert first["runKind"] == "scheduled"
    start, end = run_window(first) or (0, 0)
    assert end == first_run_at
    assert end - start > 300 * 24 * HOUR

    # then one run an hour, each over the hour before it
    aep_emulator.advance_clock(2 * HOUR)
    runs = aep_emulator.runs(flow["id"])
    assert [run_window(run) for run in runs[1:]] == [
        (first_run_at, first_run_at + HOUR),
        (first_run_at + HOUR, first_run_at + 2 * HOUR),
    ]
    assert {run_status(run) for run in runs} == {"success"}
