"""``make standalone`` (``scripts/standalone.sh``): the example DAGs are unpaused only once the API
server answers, so the first scheduled runs lose no task to it still starting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .harness import EXAMPLE_DAG_IDS, REPO_ROOT, StandaloneAirflow, free_port

pytestmark = pytest.mark.slow

#: The daily DAGs: unpaused, the scheduler starts their latest interval at once.
DAILY_DAG_IDS = ("aep_payments_adhoc_schema", "aep_payments_batch")


@pytest.fixture
def standalone_script(tmp_path: Path) -> Iterator[StandaloneAirflow]:
    """``scripts/standalone.sh`` on free ports with its own home, asked to unpause the example DAGs
    (the harness sets ``AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False``, which the script honours
    by unpausing them itself once the API server answers)."""
    home = tmp_path / "standalone-home"
    airflow = StandaloneAirflow(
        home,
        {},
        log_path=ARTIFACTS / "standalone-script.log",
        command=["bash", str(REPO_ROOT / "scripts" / "standalone.sh")],
        STANDALONE_HOME=str(home),
        AEP_EMULATOR_PORT=str(free_port()),
    )
    airflow.start()
    try:
        yield airflow
    finally:
        airflow.stop()


def wait_until_unpaused(airflow: StandaloneAirflow, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    paused: list[str] = list(EXAMPLE_DAG_IDS)
    while time.monotonic() < deadline:
        dags = airflow.api.get("/dags", params={"dag_id_pattern": "aep_"}).json()["dags"]
        paused = [dag["dag_id"] for dag in dags if dag["is_paused"]]
        if len(dags) == len(EXAMPLE_DAG_IDS) and not paused:
            return
        time.sleep(2.0)
    raise AssertionError(f"still paused after {timeout:.0f} s: {paused}; see {airflow.log_path}")


def test_first_scheduled_runs_succeed_at_their_first_try(standalone_script: StandaloneAirflow) -> None:
    wait_until_unpaused(standalone_script)
    for dag_id in DAILY_DAG_IDS:
        [run] = standalone_script.wait_for_runs(dag_id, 1, timeout=420.0)
        assert run["run_type"] == "scheduled"
        assert run["state"] == "success", f"see {standalone_script.log_path}"
        retried = [
            (ti["task_id"], ti["try_number"])
            for ti in standalone_script.task_instances(dag_id, run["dag_run_id"])
            if ti["try_number"] > 1
        ]
        assert retried == [], f"{dag_id}: tasks needed retries; see {standalone_script.log_path}"
    assert f"unpaused {len(EXAMPLE_DAG_IDS)} example DAG(s)" in standalone_script.log_path.read_text()
