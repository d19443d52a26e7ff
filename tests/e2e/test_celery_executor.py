"""One tutorial DAG under the CeleryExecutor: Redis broker, scheduler, triggerer and a Celery worker
as separate processes (about 45 s; select or skip it with the ``celery`` marker)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aep_emulator.testing import RunningEmulator

from .celery_stack import REDIS_SERVER, CeleryAirflow

pytestmark = [
    pytest.mark.celery,
    pytest.mark.slow,
    pytest.mark.needs_tool(os.path.exists(REDIS_SERVER), "Debian's redis-server (CeleryExecutor broker)"),
    pytest.mark.skipif(
        importlib.util.find_spec("airflow.providers.celery") is None,
        reason="needs apache-airflow-providers-celery (the dev extra)",
    ),
]

DAG_ID = "aep_payments_batch"


@pytest.fixture
def celery_airflow(tmp_path: Path, artifacts: Path) -> Iterator[tuple[CeleryAirflow, RunningEmulator]]:
    with RunningEmulator(run_duration_seconds=5.0) as emulator:
        airflow = CeleryAirflow(
            tmp_path / "airflow-home",
            emulator.conn_env(),
            artifacts / "celery",
            # Only the DAG under test runs (unpaused by the test): the other example DAGs would share the
            # worker's 2 slots with it, and still be running tasks when the stack is stopped.
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        )
        airflow.start()
        try:
            yield airflow, emulator
        finally:
            airflow.stop()


def test_payments_dag_runs_on_a_celery_worker(celery_airflow: tuple[CeleryAirflow, RunningEmulator]) -> None:
    airflow, emulator = celery_airflow
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    # The scheduler runs the latest interval on its own (catchup off): that run is the one checked.
    [run] = airflow.wait_for_runs(DAG_ID, 1, timeout=420)
    assert run["state"] == "success", f"see {airflow.log_dir}"
    instances = airflow.task_instances(DAG_ID, run["dag_run_id"])
    assert {instance["state"] for instance in instances} == {"success"}
    assert all(instance["queue"] == "default" for instance in instances)
    worker_log = airflow.worker_log()
    executed = [line for line in worker_log.splitlines() if "Executing workload in Celery" in line]
    assert any(f"dag_id={DAG_ID}/" in line and "task_id=create_dataflow" in line for line in executed), (
        "the tasks did not run on the Celery worker"
    )
    flows = {flow["name"] for flow in emulator.state()["prod"]["flows"]}
    assert "Airflow payments dataflow" in flows
