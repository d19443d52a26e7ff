"""Every example DAG runs green when triggered without a logical date, under a real scheduler.

Airflow 3's clients trigger without a logical date by default: ``airflow dags trigger <dag_id>`` and
``POST /api/v2/dags/{dag_id}/dagRuns`` with ``"logical_date": null``. Such a run has no data interval
(no ``data_interval_*``, ``logical_date`` or ``ds`` in its context), so its windowed flow run must
ingest the documented default: the last full UTC day before the run's ``run_after``.

All ten runs are triggered at once in the shared ``airflow standalone``, then awaited together.
"""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from tests.flow_runs.flow_run_helpers import DAY, run_window

from .harness import EXAMPLE_DAG_IDS, StandaloneAirflow, epoch

pytestmark = pytest.mark.slow

#: How a run is triggered, and the ``triggered_by`` Airflow records for it.
TRIGGERED_BY = {"cli": "cli", "rest": "rest_api"}
#: The task of each DAG that starts a windowed flow run; its XCom ``return_value`` is the run id.
WINDOWED_FLOW_RUN_TASKS = {
    "aep_dataflow_lifecycle": "start_run",
    "aep_payments_adhoc_schema": "run_window",
    "aep_payments_batch": "run_window",
}

RunKey = tuple[str, str]  # (dag_id, how it was triggered)


@pytest.fixture(scope="module")
def triggered_runs(standalone: StandaloneAirflow) -> dict[RunKey, dict[str, Any]]:
    """Each example DAG triggered once from the CLI and once through the REST API, all finished."""
    for dag_id in EXAMPLE_DAG_IDS:
        standalone.wait_for_dag(dag_id)
        standalone.unpause(dag_id)
    run_ids: dict[RunKey, str] = {}
    for dag_id in EXAMPLE_DAG_IDS:
        run_ids[(dag_id, "rest")] = standalone.trigger(dag_id)
    for dag_id in EXAMPLE_DAG_IDS:
        run_ids[(dag_id, "cli")] = standalone.trigger_from_cli(dag_id)
    # Runs of one DAG may queue behind each other (max_active_runs=1): wait for all ten together.
    finished = standalone.wait_until_finished(
        [(dag_id, run_id) for (dag_id, _), run_id in run_ids.items()], timeout=1200.0
    )
    return {key: finished[(key[0], run_id)] for key, run_id in run_ids.items()}


@pytest.fixture
def aep_hook(standalone_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> AEPHook:
    """A hook on the standalone's emulator, to read flow runs as any AEP client does."""
    for name, value in standalone_emulator.conn_env().items():
        monkeypatch.setenv(name, value)
    return AEPHook()


def last_full_utc_day_before(timestamp: str) -> tuple[int, int]:
    """``[midnight - 1 day, midnight)`` in epoch seconds, midnight starting the UTC day of ``timestamp``."""
    midnight = epoch(timestamp) // DAY * DAY
    return midnight - DAY, midnight


@pytest.mark.parametrize("how", sorted(TRIGGERED_BY))
@pytest.mark.parametrize("dag_id", EXAMPLE_DAG_IDS)
def test_run_without_logical_date_succeeds(
    standalone: StandaloneAirflow, triggered_runs: dict[RunKey, dict[str, Any]], dag_id: str, how: str
) -> None:
    run = triggered_runs[(dag_id, how)]
    assert run["triggered_by"] == TRIGGERED_BY[how]
    assert run["logical_date"] is None, run
    assert run["data_interval_start"] is None, run
    not_green = [
        (ti["task_id"], ti["state"])
        for ti in standalone.task_instances(dag_id, run["dag_run_id"])
        if ti["state"] not in ("success", "skipped")
    ]
    assert run["state"] == "success", f"tasks {not_green}; see {standalone.log_path}"


@pytest.mark.parametrize("how", sorted(TRIGGERED_BY))
@pytest.mark.parametrize("dag_id", sorted(WINDOWED_FLOW_RUN_TASKS))
def test_flow_run_ingests_the_last_full_utc_day_before_the_run(
    standalone: StandaloneAirflow,
    triggered_runs: dict[RunKey, dict[str, Any]],
    aep_hook: AEPHook,
    dag_id: str,
    how: str,
) -> None:
    run = triggered_runs[(dag_id, how)]
    assert run["state"] == "success", "the DAG run failed (test_run_without_logical_date_succeeds says why)"
    flow_run_id = standalone.xcom(dag_id, run["dag_run_id"], WINDOWED_FLOW_RUN_TASKS[dag_id])
    assert run_window(aep_hook, flow_run_id) == last_full_utc_day_before(run["run_after"])
