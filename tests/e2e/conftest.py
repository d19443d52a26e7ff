"""Fixtures of the end-to-end tests: a migrated Airflow home for ``airflow dags test``, and a running
``airflow standalone`` (scheduler, triggerer, API server, UI) with its own emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from aep_emulator.testing import RunningEmulator

from .harness import REPO_ROOT, AirflowCli, StandaloneAirflow

ARTIFACTS = REPO_ROOT / "test-artifacts"


def days_ago(days: int) -> str:
    """An ISO date ``days`` before today: the emulator's sample data covers the last ~400 days."""
    return (date.today() - timedelta(days=days)).isoformat()


@pytest.fixture(scope="session")
def airflow_cli(emulator_server: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> AirflowCli:
    """One throwaway ``AIRFLOW_HOME`` for the session (the database is migrated once), pointed at the
    session emulator through its ``AIRFLOW_CONN_*`` variables."""
    cli = AirflowCli(tmp_path_factory.mktemp("airflow-home"), emulator_server.conn_env())
    cli.migrate()
    return cli


@pytest.fixture(scope="session")
def standalone_emulator() -> Iterator[RunningEmulator]:
    """An emulator for the standalone Airflow: runs last 8 s, so a deferred wait is observable."""
    with RunningEmulator(run_duration_seconds=8.0) as server:
        yield server


@pytest.fixture(scope="session")
def standalone(
    standalone_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StandaloneAirflow]:
    """``airflow standalone`` on a free port, every AEP wait deferred to its triggerer."""
    airflow = StandaloneAirflow(
        tmp_path_factory.mktemp("airflow-standalone"),
        standalone_emulator.conn_env(),
        log_path=ARTIFACTS / "standalone.log",
        AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE="True",
    )
    airflow.start()
    try:
        # With catchup off the scheduler runs the latest interval of each daily DAG as soon as it is
        # parsed: let that run finish, so tests never race it for the same resources.
        airflow.wait_for_dag("aep_payments_batch")
        airflow.wait_for_runs("aep_payments_batch", 1)
        yield airflow
    finally:
        airflow.stop()


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` (gitignored): screenshots and logs worth keeping after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
