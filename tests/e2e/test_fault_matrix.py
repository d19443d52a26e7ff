"""The fault matrix (``scripts/fault_matrix.py``) on three representative rows, through the same code
as the published table, so the script cannot rot: a transient fault on a create, a lost answer on the
dataflow create, and a 404 on a read that must fail fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.fault_matrix import EXPECTED, PAYMENTS, RowResult, all_rows, markdown_table, run_matrix, select

# The rows run once, in the first test's setup (the module fixture): the timeout covers all three.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROWS = ("503-create", "lost502-flows", "404-read")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RowResult]:
    rows = select(all_rows(), ROWS)
    # Side by side: the rows mostly wait (the 404 row on two 15 s retry delays).
    measured = run_matrix(rows, Path(tmp_path_factory.mktemp("fault-matrix")), timeout=240.0, jobs=len(rows))
    print(markdown_table(measured))  # shown with -s, and in the report of a failing test
    return {result.row.key: result for result in measured}


def test_every_row_gets_its_verdict(results: dict[str, RowResult]) -> None:
    assert sorted(results) == sorted(ROWS)
    table = markdown_table(results.values())
    for result in results.values():
        assert result.findings == [], table
        assert result.verdict == "ok"
    assert "| `503` 2 times on `POST flowservice/flows` | recover | success |" in table


def test_transient_fault_on_a_create_recovers_without_a_task_retry(results: dict[str, RowResult]) -> None:
    result = results["503-create"]
    assert result.state == "success"
    assert result.resources == EXPECTED[PAYMENTS], "exactly one of each resource"
    # Two 503s: after each the operator looked the dataflow up, found nothing and POSTed again.
    assert result.on_faulted_endpoint == 3
    assert result.retried_tasks == [], "the operator absorbed the fault, not Airflow's task retries"


def test_lost_answer_on_the_dataflow_create_is_looked_up_not_repeated(results: dict[str, RowResult]) -> None:
    result = results["lost502-flows"]
    assert result.state == "success"
    assert result.resources == EXPECTED[PAYMENTS], "no second dataflow"
    assert result.on_faulted_endpoint == 1, "the look-up found the dataflow: no second POST"
    assert result.retried_tasks == []


def test_not_found_on_a_read_fails_fast_without_a_retry_storm(results: dict[str, RowResult]) -> None:
    result = results["404-read"]
    assert result.state == "failed"
    [failed] = result.failed_tasks
    assert failed.task_id == "get_flow_spec"
    # One request per try: the DAG's two task retries, never a retry by the hook.
    assert failed.tries == 3
    assert result.on_faulted_endpoint == 3
    assert failed.errors
    assert all(error.startswith("AEPNotFoundError: GET ") for error in failed.errors)
    assert result.resources["flows"] == 0, "nothing downstream of the failed look-up ran"
    assert result.resources["runs"] == 0
