"""AEP datasets as Airflow assets under a real scheduler, and the lineage the tasks report.

One ``airflow standalone`` (scheduler, dag processor, triggerer, API server) with its own emulator, an
OpenLineage file transport, and a DAG folder holding:

* ``aep_payments_batch`` and ``aep_payments_downstream`` (copied from ``example_dags/``): the scheduled
  ingestion announces its dataset through the alias ``aep_payments_datasets``; the downstream DAG runs
  on it and reads the event's ``extra``;
* ``tests/assets/dags/aep_assets_e2e.py``, added once the payments dataflow exists: a DAG that ingests
  three windows into that dataflow with the dataset asset in its outlets (the run operator deferred,
  the sensor poking, the sensor deferred), and a DAG scheduled on the asset (``schedule=[asset]``).

Every ``extra`` is checked against what AEP itself shows for the run (``GET /runs/{id}``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.assets import aep_dataset_uri
from airflow_provider_aep.hooks._core import TOKENS
from airflow_provider_aep.hooks.aep import AEPHook
from tests.assets.asset_helpers import run_facts

from .conftest import ARTIFACTS
from .harness import DAGS_FOLDER, FINISHED, REPO_ROOT, StandaloneAirflow, epoch

# The fixtures start Airflow and wait for whole DAG runs: more than the default 300 s on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAY = 86400
TEST_DAGS = REPO_ROOT / "tests" / "assets" / "dags"
EXAMPLES = ("_common.py", "aep_payments_batch.py", "aep_payments_downstream.py", ".airflowignore")


@pytest.fixture(scope="module")
def assets_emulator() -> Iterator[RunningEmulator]:
    """This module's emulator: runs last 4 s, so the deferrable waits do defer."""
    with RunningEmulator(run_duration_seconds=4.0) as server:
        yield server


@pytest.fixture(scope="module")
def assets_airflow(
    assets_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StandaloneAirflow, Path, Path]]:
    """``airflow standalone`` on the payments example DAGs, OpenLineage events written to a file.

    Yields the standalone, its DAG folder and the OpenLineage events file.
    """
    dags = tmp_path_factory.mktemp("asset-dags")
    for name in EXAMPLES:
        shutil.copy(DAGS_FOLDER / name, dags / name)
    lineage_file = tmp_path_factory.mktemp("openlineage") / "events.jsonl"
    airflow = StandaloneAirflow(
        tmp_path_factory.mktemp("airflow-assets"),
        assets_emulator.conn_env(),
        log_path=ARTIFACTS / "standalone-assets.log",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            {"type": "file", "log_file_path": str(lineage_file), "append": True}
        ),
        AIRFLOW__OPENLINEAGE__NAMESPACE="aep-e2e",
    )
    airflow.start()
    try:
        yield airflow, dags, lineage_file
    finally:
        airflow.stop()


@pytest.fixture
def aep_hook(assets_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[AEPHook]:
    """A hook on this module's emulator, to read runs as any AEP client does."""
    for name, value in assets_emulator.conn_env().items():
        monkeypatch.setenv(name, value)
    TOKENS.clear()
    yield AEPHook()
    TOKENS.clear()


def wait_for_success(airflow: StandaloneAirflow, dag_id: str, timeout: float = 300.0) -> dict[str, Any]:
    """The first DAG run of ``dag_id`` once it ended; it must have succeeded."""
    airflow.wait_for_dag(dag_id)
    runs = airflow.wait_for_runs(dag_id, 1, timeout=timeout)
    finished = [run for run in runs if run["state"] in FINISHED]
    assert [run["state"] for run in finished] == ["success"] * len(finished), (
        finished,
        str(airflow.log_path),
    )
    return finished[-1]


def expected_extra(
    hook: AEPHook, org_id: str, dataset_id: str, flow_id: str, run_id: str, window: Any
) -> Any:
    """The ``extra`` an event about ``run_id`` must carry, from AEP's answer for the run."""
    facts = run_facts(hook, run_id)
    assert facts["output_records"] > 0, facts
    assert len(facts["batch_ids"]) == 1, facts
    return {
        "org_id": org_id,
        "sandbox": "prod",
        "dataset_id": dataset_id,
        "flow_id": flow_id,
        "run_id": run_id,
        "run_ids": [run_id],
        "window_start": window[0],
        "window_end": window[1],
        **facts,
    }


@pytest.fixture(scope="module")
def payments(assets_airflow: tuple[StandaloneAirflow, Path, Path]) -> dict[str, Any]:
    """The scheduled run of ``aep_payments_batch`` (catchup off: the latest interval) and its ids."""
    airflow, _, _ = assets_airflow
    run = wait_for_success(airflow, "aep_payments_batch")
    run_id = run["dag_run_id"]
    return {
        "run": run,
        "flow_id": airflow.xcom("aep_payments_batch", run_id, "create_dataflow"),
        "dataset_id": airflow.xcom("aep_payments_batch", run_id, "create_target_dataset"),
        "flow_run_id": airflow.xcom("aep_payments_batch", run_id, "run_window"),
    }


def test_downstream_example_runs_on_the_alias_and_reads_the_extra(
    assets_airflow: tuple[StandaloneAirflow, Path, Path],
    assets_emulator: RunningEmulator,
    payments: dict[str, Any],
    aep_hook: AEPHook,
) -> None:
    airflow, _, _ = assets_airflow
    downstream = wait_for_success(airflow, "aep_payments_downstream", timeout=180.0)
    assert downstream["run_type"] == "asset_triggered", downstream
    [summary] = airflow.xcom("aep_payments_downstream", downstream["dag_run_id"], "summarize_ingestions")
    run = payments["run"]
    window = (epoch(run["data_interval_start"]), epoch(run["data_interval_end"]))
    org = assets_emulator.org_id
    assert summary == {
        "dataset": aep_dataset_uri(payments["dataset_id"], sandbox="prod", org_id=org),
        "source": f"aep_payments_batch/{run['dag_run_id']}/wait_for_run",
        **expected_extra(
            aep_hook, org, payments["dataset_id"], payments["flow_id"], payments["flow_run_id"], window
        ),
    }


def days(back: int) -> tuple[int, int]:
    """``[midnight - back days, midnight - (back - 1) days)`` in epoch seconds (UTC)."""
    midnight = int(time.time()) // DAY * DAY
    return midnight - back * DAY, midnight - (back - 1) * DAY


@pytest.fixture(scope="module")
def ingested(
    assets_airflow: tuple[StandaloneAirflow, Path, Path],
    assets_emulator: RunningEmulator,
    payments: dict[str, Any],
) -> dict[str, Any]:
    """The concrete-asset DAGs added to the folder, the ingestion triggered and awaited, its states seen."""
    airflow, dags, _ = assets_airflow
    windows = [days(6), days(5), days(4)]
    settings = {
        "flow_id": payments["flow_id"],
        "dataset_id": payments["dataset_id"],
        "org_id": assets_emulator.org_id,
        "windows": windows,
    }
    (dags / "aep_assets_e2e.json").write_text(json.dumps(settings))
    shutil.copy(TEST_DAGS / "aep_assets_e2e.py", dags / "aep_assets_e2e.py")
    for dag_id in ("aep_assets_ingest", "aep_assets_consumer"):
        airflow.wait_for_dag(dag_id)
        airflow.unpause(dag_id)
    run_id = airflow.trigger("aep_assets_ingest")
    states: dict[str, set[str]] = {"run_deferred": set(), "wait_deferred": set(), "wait_poke": set()}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for instance in airflow.task_instances("aep_assets_ingest", run_id):
            if instance["task_id"] in states and instance["state"]:
                states[instance["task_id"]].add(instance["state"])
        if airflow.dag_run("aep_assets_ingest", run_id)["state"] in ("success", "failed"):
            break
        time.sleep(1.0)
    run = airflow.dag_run("aep_assets_ingest", run_id)
    assert run["state"] == "success", f"{run}; see {airflow.log_path}"
    flow_runs = {
        task_id: airflow.xcom("aep_assets_ingest", run_id, task_id)
        for task_id in ("run_deferred", "wait_poke", "wait_deferred")
    }
    return {"run_id": run_id, "windows": windows, "states": states, "flow_runs": flow_runs, **settings}


def consumer_events(airflow: StandaloneAirflow, count: int, timeout: float = 180.0) -> list[dict[str, Any]]:
    """The events every successful ``aep_assets_consumer`` run read, once ``count`` of them are in."""
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        events = []
        for run in airflow.dag_runs("aep_assets_consumer"):
            assert run["state"] != "failed", f"{run}; see {airflow.log_path}"
            if run["state"] == "success":
                assert run["run_type"] == "asset_triggered", run
                events += airflow.xcom("aep_assets_consumer", run["dag_run_id"], "read_events")
        if len(events) >= count:
            return events
        time.sleep(2.0)
    raise AssertionError(f"{count} events expected, the consumer read {events}; see {airflow.log_path}")


def test_a_dag_scheduled_on_the_dataset_asset_reads_each_ingestion(
    assets_airflow: tuple[StandaloneAirflow, Path, Path], ingested: dict[str, Any], aep_hook: AEPHook
) -> None:
    airflow, _, _ = assets_airflow
    events = consumer_events(airflow, 3)
    uri = aep_dataset_uri(ingested["dataset_id"], sandbox="prod", org_id=ingested["org_id"])
    by_task = {event["source_task_id"]: event for event in events}
    assert sorted(by_task) == ["run_deferred", "wait_deferred", "wait_poke"], events
    assert len(events) == 3, "one event per ingesting task"
    for index, task_id in enumerate(("run_deferred", "wait_poke", "wait_deferred")):
        event = by_task[task_id]
        assert event["uri"] == uri
        flow_run_id = ingested["flow_runs"][task_id]
        assert event["extra"] == expected_extra(
            aep_hook,
            ingested["org_id"],
            ingested["dataset_id"],
            ingested["flow_id"],
            flow_run_id,
            tuple(ingested["windows"][index]),
        ), task_id
    assert len({event["extra"]["run_id"] for event in events}) == 3
    # ... and as Airflow stored them (REST API)
    response = airflow.api.get("/assets/events", params={"source_dag_id": "aep_assets_ingest", "limit": 100})
    response.raise_for_status()
    stored = {event["source_task_id"]: event["extra"] for event in response.json()["asset_events"]}
    assert stored == {task_id: event["extra"] for task_id, event in by_task.items()}


def test_the_deferrable_waits_ran_in_the_triggerer(ingested: dict[str, Any]) -> None:
    states = ingested["states"]
    assert "deferred" in states["run_deferred"], states
    assert "deferred" in states["wait_deferred"], states
    assert "deferred" not in states["wait_poke"], states


def lineage_events(path: Path) -> list[dict[str, Any]]:
    """The OpenLineage events the file transport wrote (one JSON object a line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def completed(path: Path, job: str, timeout: float = 60.0) -> dict[str, Any]:
    """The COMPLETE event of job ``<dag_id>.<task_id>`` (emitted by the task process after it ended)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in lineage_events(path) if e["eventType"] == "COMPLETE" and e["job"]["name"] == job]
        if found or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert found, f"no COMPLETE OpenLineage event for {job}"
    return found[-1]


def test_openlineage_events_name_the_source_and_the_dataset(
    assets_airflow: tuple[StandaloneAirflow, Path, Path],
    ingested: dict[str, Any],
    payments: dict[str, Any],
    aep_hook: AEPHook,
) -> None:
    _, _, lineage_file = assets_airflow
    namespace = f"aep://{ingested['org_id']}/prod"
    [source_connection] = aep_hook.get_item("flowservice", f"/flows/{ingested['flow_id']}")[
        "sourceConnectionIds"
    ]
    jobs = [
        ("aep_assets_ingest.run_deferred", ingested["flow_runs"]["run_deferred"]),
        ("aep_assets_ingest.wait_poke", ingested["flow_runs"]["wait_poke"]),
        ("aep_assets_ingest.wait_deferred", ingested["flow_runs"]["wait_deferred"]),
        ("aep_payments_batch.wait_for_run", payments["flow_run_id"]),
    ]
    for job, flow_run_id in jobs:
        event = completed(lineage_file, job)
        facts = run_facts(aep_hook, flow_run_id)
        [source] = event["inputs"]
        assert (source["namespace"], source["name"]) == (
            namespace,
            f"sourceConnections/{source_connection}",
        ), job
        assert source["facets"]["symlinks"]["identifiers"][0]["name"] == "PayPal.Catalog_Products"
        assert source["inputFacets"]["inputStatistics"]["rowCount"] == facts["input_records"]
        [output] = event["outputs"]
        assert (output["namespace"], output["name"]) == (namespace, f"datasets/{ingested['dataset_id']}"), job
        assert output["outputFacets"]["outputStatistics"]["rowCount"] == facts["output_records"]
        assert event["run"]["facets"]["externalQuery"]["externalQueryId"] == flow_run_id
    dataset_event = completed(lineage_file, "aep_payments_batch.create_target_dataset")
    [output] = dataset_event["outputs"]
    assert (output["namespace"], output["name"]) == (namespace, f"datasets/{ingested['dataset_id']}")
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
