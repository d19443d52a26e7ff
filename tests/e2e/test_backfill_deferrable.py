"""A backfill of ``aep_payments_batch`` under a real scheduler, its waits deferred to a real triggerer.

``airflow standalone`` runs the scheduler, the dag processor, the triggerer and the API server as
separate processes; ``[operators] default_deferrable`` is on, so the flow-run waits are deferred.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator

from .conftest import days_ago
from .harness import StandaloneAirflow, epoch

pytestmark = pytest.mark.slow

DAG_ID = "aep_payments_batch"


def watch_backfill(
    airflow: StandaloneAirflow, count: int, timeout: float = 420.0
) -> tuple[list[Any], set[str]]:
    """Wait for ``count`` finished backfill runs; also return every state the flow-run wait went through."""
    seen_wait_states: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [run for run in airflow.dag_runs(DAG_ID) if run["run_type"] == "backfill"]
        for run in runs:
            if run["state"] in ("running", "queued"):
                for instance in airflow.task_instances(DAG_ID, run["dag_run_id"]):
                    if instance["task_id"] == "wait_for_run" and instance["state"]:
                        seen_wait_states.add(instance["state"])
        if len(runs) == count and all(run["state"] in ("success", "failed") for run in runs):
            return runs, seen_wait_states
        time.sleep(1.0)
    raise AssertionError(f"the backfill did not finish in {timeout:.0f} s; see {airflow.log_path}")


def test_backfill_three_days_gives_three_windowed_flow_runs(
    standalone: StandaloneAirflow, standalone_emulator: RunningEmulator
) -> None:
    first, last = days_ago(12), days_ago(10)
    standalone.create_backfill(DAG_ID, f"{first}T00:00:00Z", f"{last}T00:00:00Z")

    runs, wait_states = watch_backfill(standalone, count=3)

    assert sorted(run["state"] for run in runs) == ["success"] * 3, [
        (r["dag_run_id"], r["state"]) for r in runs
    ]
    intervals = sorted((epoch(run["data_interval_start"]), epoch(run["data_interval_end"])) for run in runs)
    assert all(end - start == 86400 for start, end in intervals)

    # Only the on-demand runs of a window: other tests sharing this standalone Airflow may have left
    # runs of other dataflows (streaming, AEP-scheduled) in the emulator, which carry no window params.
    flow_runs = standalone_emulator.state()["prod"]["runs"]
    windows = Counter(
        (int(run["params"]["windowStartTime"]), int(run["params"]["windowEndTime"]))
        for run in flow_runs
        if run.get("runKind") != "scheduled" and "windowStartTime" in (run.get("params") or {})
    )
    # (With catchup off the scheduler also runs the latest interval, which is not part of the backfill.)
    assert [windows[interval] for interval in intervals] == [1, 1, 1], (
        f"each backfilled DAG run must ingest exactly its own data interval, once: {windows}"
    )
    # The waits were handed to the triggerer process rather than holding a worker slot.
    assert "deferred" in wait_states, f"the flow-run wait never deferred (states seen: {wait_states})"
