"""The production stack end to end (docs/howto/production.md: PostgreSQL, CeleryExecutor, two triggerers).

PostgreSQL as the metadata database, the CeleryExecutor with a local Redis, a scheduler, a dag
processor, an API server, a Celery worker and two triggerers, each its own process
(``production_stack.py``), every AEP wait deferred, against an emulator whose creates take a second
and whose flow runs take seconds. Its client, PayPal and Salesforce Marketing Cloud secrets carry a
marker that the last test looks for everywhere the deployment keeps data.

One stack serves the module; the tests run in file order and later ones reuse the payments dataflow
the backfill made. Component logs, task logs and the emulator's state go to
``test-artifacts/production-stack/`` when a test fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.hooks.aep import AEPHook
from tests.flow_runs.flow_run_helpers import DAY, run_window

from .celery_stack import REDIS_SERVER
from .conftest import ARTIFACTS
from .harness import DAGS_FOLDER, epoch
from .production_stack import POSTGRES_BIN, TRIGGERERS, PostgresCluster, ProductionAirflow, find_secrets

pytestmark = [
    pytest.mark.production,
    pytest.mark.slow,
    pytest.mark.needs_tool(POSTGRES_BIN is not None, "Debian's postgresql (initdb, postgres, pg_dump)"),
    pytest.mark.needs_tool(os.path.exists(REDIS_SERVER), "Debian's redis-server (CeleryExecutor broker)"),
    pytest.mark.skipif(
        importlib.util.find_spec("airflow.providers.celery") is None,
        reason="needs apache-airflow-providers-celery (the dev extra)",
    ),
]

PAYMENTS = "aep_payments_batch"
PAYMENTS_PREFIX = "Airflow payments"
ADHOC = "aep_payments_adhoc_schema"
SFMC = "aep_salesforce_marketing_cloud"
WAITS = "aep_e2e_deferred_waits"
E2E_DAGS = Path(__file__).parent / "dags"
#: Every create the emulator answers takes this long (overlapping DAG runs really race).
CREATE_LATENCY = 1.0
#: How long a flow run stays in progress.
RUN_SECONDS = 6.0
#: Flow runs of the deferred-waits test outlast the deferring of all 20 waits, however slow the machine,
#: and the handover: the test ends them (advances the emulator's clock) once the survivor holds every wait.
LONG_RUN_SECONDS = 600.0
#: Unique per session: found anywhere but at AEP, a secret has leaked.
MARKER = secrets.token_hex(6)
SECRETS = {
    "AEP client secret": f"aep-client-s3cret-{MARKER}",
    "PayPal client secret": f"paypal-s3cret-{MARKER}",
    "SFMC client secret": f"sfmc-s3cret-{MARKER}",
}
#: The create tasks of ``aep_payments_batch``: every DAG run must get the same id from each.
PAYMENTS_SETUP = (
    "create_base_connection",
    "create_source_connection",
    "create_target_schema",
    "create_target_dataset",
    "create_target_connection",
    "create_mapping_set",
    "create_dataflow",
)
#: The emulator's resource kinds a DAG run ensures, and the field that names each.
NAMED_KINDS = {
    "connections": "name",
    "sourceConnections": "name",
    "targetConnections": "name",
    "flows": "name",
    "dataSets": "name",
    "schemas": "title",
    "classes": "title",
}
ONE_EACH = {**dict.fromkeys(NAMED_KINDS, 1), "classes": 0}


class Setup(NamedTuple):
    """What a DAG's setup ensures: resources named from ``prefix``, ``tasks`` that return their ids, and
    how many resources of each kind."""

    prefix: str
    tasks: tuple[str, ...]
    counts: dict[str, int]


SETUPS = {
    PAYMENTS: Setup(PAYMENTS_PREFIX, PAYMENTS_SETUP, ONE_EACH),
    # The ad-hoc DAG also makes the class and schema of the raw data.
    ADHOC: Setup(
        "Airflow ad-hoc payments",
        ("create_adhoc_class", "create_adhoc_schema", *PAYMENTS_SETUP),
        {**ONE_EACH, "schemas": 2, "classes": 1},
    ),
}


#: Today's UTC midnight when the module was loaded: every window is counted back from it.
TODAY = datetime.combine(datetime.now(timezone.utc).date(), datetime.min.time(), tzinfo=timezone.utc)


def midnight_utc(days_ago: int) -> datetime:
    """UTC midnight ``days_ago`` days before :data:`TODAY`."""
    return TODAY - timedelta(days=days_ago)


@pytest.fixture(scope="module")
def production_emulator() -> Iterator[RunningEmulator]:
    """The stack's emulator: creates take 1 s, flow runs 6 s, and every secret carries the marker."""
    with RunningEmulator(
        run_duration_seconds=RUN_SECONDS,
        client_secret=SECRETS["AEP client secret"],
        paypal_client_secret=SECRETS["PayPal client secret"],
        sfmc_client_secret=SECRETS["SFMC client secret"],
        config={"create_latency_seconds": CREATE_LATENCY},
    ) as server:
        yield server


def save_artifacts(root: Path, postgres: PostgresCluster, emulator: RunningEmulator) -> Path:
    """Copy every log of the stack and the emulator's state and request log to ``test-artifacts/``."""
    target = ARTIFACTS / "production-stack"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for source, name in ((root / "logs", "components"), (root / "home" / "logs", "task-logs")):
        if source.exists():
            shutil.copytree(source, target / name)
    if postgres.log_path.exists():
        shutil.copy(postgres.log_path, target / "postgres.log")
    try:
        (target / "emulator-state.json").write_text(httpx.get(f"{emulator.url}/__emulator__/state").text)
        (target / "emulator-requests.json").write_text(
            httpx.get(f"{emulator.url}/__emulator__/requests").text
        )
    except httpx.HTTPError:
        pass
    return target


@pytest.fixture(scope="module")
def stack(
    production_emulator: RunningEmulator,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[ProductionAirflow]:
    """PostgreSQL, Redis and every Airflow component, for the whole module; the logs are kept on failure."""
    assert POSTGRES_BIN is not None
    root = tmp_path_factory.mktemp("production-stack")
    failed_before = request.session.testsfailed
    postgres = PostgresCluster(POSTGRES_BIN)
    airflow: ProductionAirflow | None = None
    started = False
    try:
        postgres.start()
        airflow = ProductionAirflow(
            root / "home",
            production_emulator.conn_env(),
            root / "logs",
            postgres,
            dag_folders={"dags-folder": DAGS_FOLDER, "e2e-test-dags": E2E_DAGS},
            AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE="True",
        )
        airflow.start()
        started = True
        yield airflow
    finally:
        if airflow is not None:
            airflow.stop()
        if not started or request.session.testsfailed > failed_before:
            print(f"production stack logs: {save_artifacts(root, postgres, production_emulator)}")
        postgres.stop()


@pytest.fixture
def aep_hook(production_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> AEPHook:
    """A hook on the stack's emulator, to read flow runs as any AEP client does."""
    for name, value in production_emulator.conn_env().items():
        monkeypatch.setenv(name, value)
    return AEPHook()


def create_backfill(
    stack: ProductionAirflow, dag_id: str, first: date, last: date, max_active_runs: int
) -> int:
    """``airflow backfill create`` (the documented CLI; PostgreSQL takes a second writer) and its id."""
    stack.cli.run(
        "backfill",
        "create",
        "--dag-id",
        dag_id,
        "--from-date",
        first.isoformat(),
        "--to-date",
        last.isoformat(),
        "--max-active-runs",
        str(max_active_runs),
    )
    [(backfill_id,)] = stack.postgres.query(
        "SELECT id FROM backfill WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,)
    )
    return int(backfill_id)


def backfill_runs(stack: ProductionAirflow, backfill_id: int) -> list[dict[str, Any]]:
    """The DAG runs of a backfill (REST API objects)."""
    rows = stack.postgres.query("SELECT dag_id, run_id FROM dag_run WHERE backfill_id = %s", (backfill_id,))
    return [stack.dag_run(dag_id, run_id) for dag_id, run_id in rows]


def backfill_states(stack: ProductionAirflow, backfill_id: int) -> list[tuple[str, str]]:
    """``(run id, state)`` of each DAG run of a backfill, straight from the database (cheap to poll)."""
    rows = stack.postgres.query("SELECT run_id, state FROM dag_run WHERE backfill_id = %s", (backfill_id,))
    return sorted((str(run_id), str(state)) for run_id, state in rows)


def wait_for_backfill(
    stack: ProductionAirflow, backfill_id: int, count: int, timeout: float = 420.0
) -> list[dict[str, Any]]:
    """Wait until the backfill's ``count`` DAG runs have finished; return them (REST API objects)."""
    deadline = time.monotonic() + timeout
    states: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        states = backfill_states(stack, backfill_id)
        if len(states) == count and all(state in ("success", "failed") for _, state in states):
            return backfill_runs(stack, backfill_id)
        time.sleep(0.5)
    raise AssertionError(f"backfill {backfill_id}: {count} runs to finish in {timeout:.0f} s; {states}")


def not_green(stack: ProductionAirflow, runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``(run, task, state)`` of every task instance of ``runs`` that did not succeed."""
    return [
        (run["dag_run_id"], ti["task_id"], ti["state"])
        for run in runs
        for ti in stack.task_instances(run["dag_id"], run["dag_run_id"])
        if ti["state"] != "success"
    ]


def named(state: Mapping[str, Any], prefix: str) -> dict[str, list[dict[str, Any]]]:
    """The resources of each kind a payments DAG run ensures whose name starts with ``prefix``."""
    return {
        kind: [item for item in state.get(kind, []) if str(item.get(field, "")).startswith(prefix)]
        for kind, field in NAMED_KINDS.items()
    }


def flow_runs_by_window(state: Mapping[str, Any], flow_id: str) -> Counter[tuple[int, int]]:
    """How many flow runs the dataflow has per window (epoch seconds), from the emulator's own records."""
    return Counter(
        (run["plan"]["windowMs"][0] // 1000, run["plan"]["windowMs"][1] // 1000)
        for run in state.get("runs", [])
        if run.get("flowId") == flow_id and run["plan"].get("windowMs")
    )


def interval(run: Mapping[str, Any]) -> tuple[int, int]:
    """A DAG run's data interval in epoch seconds."""
    return epoch(run["data_interval_start"]), epoch(run["data_interval_end"])


def check_windowed_runs(
    stack: ProductionAirflow,
    emulator: RunningEmulator,
    hook: AEPHook,
    dag_id: str,
    runs: list[dict[str, Any]],
) -> None:
    """Exactly one flow run per DAG run's data interval, and it ingests exactly that interval."""
    [flow] = named(emulator.state()["prod"], SETUPS[dag_id].prefix)["flows"]
    windows = flow_runs_by_window(emulator.state()["prod"], flow["id"])
    assert {interval(run): windows[interval(run)] for run in runs} == {interval(run): 1 for run in runs}, (
        f"{dag_id}: each DAG run must start exactly one flow run over its data interval: {dict(windows)}"
    )
    for run in runs:
        flow_run_id = stack.xcom(dag_id, run["dag_run_id"], "run_window")
        assert run_window(hook, flow_run_id) == interval(run), run["dag_run_id"]


def most_at_once(runs: list[dict[str, Any]]) -> int:
    """The most DAG runs that were running at the same moment (from their start and end dates)."""
    events = sorted(
        (epoch_ms(run[field]), step) for run in runs for field, step in (("start_date", 1), ("end_date", -1))
    )
    running = most = 0
    for _, step in events:  # at the same moment, an end (-1) sorts before a start
        running += step
        most = max(most, running)
    return most


def epoch_ms(value: str) -> int:
    """Epoch milliseconds of an ISO timestamp from the REST API."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def check_converged(
    stack: ProductionAirflow, state: Mapping[str, Any], dag_id: str, runs: list[dict[str, Any]]
) -> None:
    """Every DAG run got the same id from each setup task, and AEP holds exactly the resources the DAG
    ensures, once (mapping sets have no DELETE: a lost race may leave an unused one, but the dataflow
    uses the one every DAG run returned)."""
    setup = SETUPS[dag_id]
    ids = {task: {stack.xcom(dag_id, run["dag_run_id"], task) for run in runs} for task in setup.tasks}
    assert {task: len(values) for task, values in ids.items()} == dict.fromkeys(setup.tasks, 1), ids
    resources = named(state, setup.prefix)
    counts = {kind: len(items) for kind, items in resources.items()}
    assert counts == setup.counts, f"{dag_id}: {counts}"
    [flow], [connection] = resources["flows"], resources["connections"]
    [flow_id], [connection_id], [mapping_set_id] = (
        ids["create_dataflow"],
        ids["create_base_connection"],
        ids["create_mapping_set"],
    )
    assert (flow["id"], connection["id"]) == (flow_id, connection_id)
    transformations = flow.get("transformations", [])
    mapping_ids = [step["params"]["mappingId"] for step in transformations if step["name"] == "Mapping"]
    assert mapping_ids == [mapping_set_id], transformations


@pytest.mark.timeout(900)
def test_backfills_three_runs_at_a_time_converge(
    stack: ProductionAirflow, production_emulator: RunningEmulator, aep_hook: AEPHook
) -> None:
    # 6 days of the payments DAG and, at the same time, 3 of the ad-hoc one, both max_active_runs=3.
    # Created while the DAGs are paused: the backfills include the latest interval, which the
    # scheduler then does not start a second (scheduled) run for once the DAGs are unpaused.
    days = {PAYMENTS: 6, ADHOC: 3}
    backfills = {}
    for dag_id, count in days.items():
        stack.wait_for_dag(dag_id)
        backfills[dag_id] = create_backfill(
            stack, dag_id, midnight_utc(count).date(), midnight_utc(1).date(), max_active_runs=3
        )
    for dag_id in days:
        stack.unpause(dag_id)

    runs = {dag_id: wait_for_backfill(stack, backfills[dag_id], days[dag_id]) for dag_id in days}

    state = production_emulator.state()["prod"]
    for dag_id, count in days.items():
        assert sorted(run["state"] for run in runs[dag_id]) == ["success"] * count, not_green(
            stack, runs[dag_id]
        )
        starts = [int(midnight_utc(days_ago).timestamp()) for days_ago in range(count, 0, -1)]
        assert sorted(interval(run) for run in runs[dag_id]) == [(start, start + DAY) for start in starts]
        assert most_at_once(runs[dag_id]) == 3, f"{dag_id}: 3 DAG runs at once expected (max_active_runs)"
        check_converged(stack, state, dag_id, runs[dag_id])
        check_windowed_runs(stack, production_emulator, aep_hook, dag_id, runs[dag_id])
    # Nothing else was made: AEP holds what the two DAGs ensure, and no more.
    totals = {kind: len(state.get(kind, [])) for kind in NAMED_KINDS}
    assert totals == {kind: sum(setup.counts[kind] for setup in SETUPS.values()) for kind in NAMED_KINDS}


def payments_flow_id(stack: ProductionAirflow, emulator: RunningEmulator) -> str:
    """The payments dataflow: the backfill's, or made by one manual DAG run if that test did not run."""
    flows = named(emulator.state()["prod"], PAYMENTS_PREFIX)["flows"]
    if not flows:
        stack.wait_for_dag(PAYMENTS)
        stack.unpause(PAYMENTS)
        run_id = stack.trigger(PAYMENTS)
        [run] = stack.wait_until_finished([(PAYMENTS, run_id)], timeout=300).values()
        assert run["state"] == "success", not_green(stack, [run])
        flows = named(emulator.state()["prod"], PAYMENTS_PREFIX)["flows"]
    flow_id: str = flows[0]["id"]
    return flow_id


def trigger_firings(stack: ProductionAirflow, dag_id: str) -> dict[int, list[int]]:
    """Trigger id -> the triggerer job id of each event it fired, for the tasks of ``dag_id``.

    A triggerer writes what a trigger logs next to the task's log, in ``<attempt log>.trigger.<job id>.log``.
    """
    firings: dict[int, list[int]] = {}
    for path in (stack.cli.home / "logs" / f"dag_id={dag_id}").rglob("*.log.trigger.*.log"):
        job_id = int(path.name.rsplit(".", 2)[-2])
        for line in path.read_text(errors="replace").splitlines():
            entry = json.loads(line)
            if entry.get("event") == "Trigger fired event":
                trigger_id = int(entry["name"].rsplit("(ID ", 1)[1].rstrip(")"))
                firings.setdefault(trigger_id, []).append(job_id)
    return firings


@pytest.mark.timeout(600)
def test_killed_triggerer_hands_its_waits_to_the_other(
    stack: ProductionAirflow, production_emulator: RunningEmulator
) -> None:
    flow_id = payments_flow_id(stack, production_emulator)
    stack.wait_for_dag(WAITS)
    stack.unpause(WAITS)
    # 20 windows, one day each, long before anything else this module ingests.
    days = [(midnight_utc(100 + index), midnight_utc(99 + index)) for index in range(20)]
    production_emulator.configure(run_duration_seconds=LONG_RUN_SECONDS)
    killed_jobs: dict[str, int] = {}
    try:
        run_ids = [
            stack.trigger(
                WAITS,
                conf={
                    "flow_id": flow_id,
                    "windows": [[start.isoformat(), end.isoformat()] for start, end in days[5 * run :][:5]],
                },
            )
            for run in range(4)
        ]
        deadline = time.monotonic() + 240
        while True:
            instances = stack.task_instance_rows(WAITS)
            assignments = stack.trigger_assignments(WAITS)
            deferred = [ti for ti in instances if ti["state"] == "deferred"]
            if len(deferred) == 20 and len(assignments) == 20 and None not in assignments.values():
                break
            broken = [ti for ti in instances if ti["state"] in ("failed", "upstream_failed", "success")]
            assert not broken, f"a wait ended before all 20 were deferred: {broken}"
            assert time.monotonic() < deadline, f"20 deferred waits expected: {instances}, {assignments}"
            time.sleep(0.5)
        # What the database holds for deferred waits (trigger arguments, next_kwargs), for the secrets test.
        snapshots = stack.cli.home / "snapshots"
        snapshots.mkdir(exist_ok=True)
        stack.postgres.dump(snapshots / "deferred-waits.sql", tables=("trigger", "task_instance"))

        held = Counter(assignments.values())
        victim = max(TRIGGERERS, key=lambda name: held[stack.triggerer_jobs[name]])
        [survivor] = [name for name in TRIGGERERS if name != victim]
        victim_job, survivor_job = stack.triggerer_jobs[victim], stack.triggerer_jobs[survivor]
        handed_over = {trigger for trigger, job in assignments.items() if job == victim_job}
        stack.kill(victim)  # kill -9 of its whole process group
        killed_jobs[victim] = victim_job
        killed_at = time.monotonic()
        # The survivor takes over every wait of the dead triggerer once that one's last heartbeat is older
        # than [triggerer] triggerer_health_check_threshold, while every flow run is still in progress.
        deadline = killed_at + 180
        while (adopted := stack.trigger_assignments(WAITS)) != dict.fromkeys(assignments, survivor_job):
            assert time.monotonic() < deadline, f"{survivor} did not take over all 20 waits: {adopted}"
            time.sleep(0.5)
        adopted_after = time.monotonic() - killed_at
        # Now every flow run ends (the emulator's clock moves past the last one's end).
        runs = [run for run in production_emulator.state()["prod"]["runs"] if run["flowId"] == flow_id]
        production_emulator.advance_clock_to(max(run["plan"]["completesAtMs"] for run in runs) / 1000 + 1)

        finished = stack.wait_until_finished([(WAITS, run_id) for run_id in run_ids], timeout=360)
    finally:
        production_emulator.configure(run_duration_seconds=RUN_SECONDS)
        # Back to two triggerers for the next tests (the survivor holds no trigger it could lose to it).
        stack.start_triggerers(*killed_jobs, wait=False)

    print(
        f"{victim} (job {victim_job}) held {len(handed_over)} of 20 waits when it was killed; {dict(held)}; "
        f"{survivor} held all 20 {adopted_after:.1f} s after the kill"
    )
    assert handed_over, f"the killed triggerer held no wait: {dict(held)}"
    assert sorted(run["state"] for run in finished.values()) == ["success"] * 4, not_green(
        stack, list(finished.values())
    )
    instances = stack.task_instance_rows(WAITS)
    assert len(instances) == 20
    assert [ti for ti in instances if (ti["state"], ti["try_number"]) != ("success", 1)] == []
    assert stack.trigger_assignments(WAITS) == {}, "triggers left behind"
    # Each wait fired once; those of the killed triggerer fired in the survivor.
    firings = trigger_firings(stack, WAITS)
    assert sorted(len(jobs) for jobs in firings.values()) == [1] * 20, firings
    fired_in = {trigger: firings.get(trigger) for trigger in handed_over}
    assert fired_in == {trigger: [survivor_job] for trigger in handed_over}
    # Every window was asked for once: no wait started a second flow run.
    windows = flow_runs_by_window(production_emulator.state()["prod"], flow_id)
    expected = {(int(start.timestamp()), int(end.timestamp())): 1 for start, end in days}
    assert {window: windows[window] for window in expected} == expected


def fault_rules(emulator: RunningEmulator) -> list[dict[str, Any]]:
    """The emulator's fault rules, each with the ``times`` it has left."""
    rules: list[dict[str, Any]] = httpx.get(f"{emulator.url}/__emulator__/faults").json()["rules"]
    return rules


@pytest.mark.timeout(600)
def test_killed_worker_mid_create_leaves_no_duplicate(
    stack: ProductionAirflow, production_emulator: RunningEmulator
) -> None:
    prefix = "Worker crash payments"
    stack.wait_for_dag(PAYMENTS)
    stack.unpause(PAYMENTS)
    # A rule that only counts: it is used up when the base connection's POST arrives, and changes nothing.
    connections_path = "^/data/foundation/flowservice/connections$"
    production_emulator.clear_faults()
    production_emulator.add_faults([{"path": connections_path, "method": "POST", "times": 1}])
    production_emulator.configure(create_latency_seconds=5.0)
    try:
        run_id = stack.trigger(PAYMENTS, conf={"name_prefix": prefix})
        deadline = time.monotonic() + 180
        while fault_rules(production_emulator)[0]["times"] > 0:
            assert time.monotonic() < deadline, "the base connection's POST never arrived"
            time.sleep(0.1)
        killed_at = production_emulator.now()  # the clock of the emulator's request log
        stack.kill("celery-worker")  # kill -9 while AEP is still creating the connection
        production_emulator.configure(create_latency_seconds=CREATE_LATENCY)
        stack.spawn("celery-worker")
        [run] = stack.wait_until_finished([(PAYMENTS, run_id)], timeout=420).values()
    finally:
        production_emulator.configure(create_latency_seconds=CREATE_LATENCY)
        production_emulator.clear_faults()

    posts = [
        request
        for request in production_emulator.requests()
        if request["method"] == "POST" and request["path"] == "/data/foundation/flowservice/connections"
    ]
    assert any(post["time"] <= killed_at <= post["time"] + post["duration_ms"] / 1000 for post in posts), (
        f"no POST /connections was in flight when the worker was killed at {killed_at}: {posts}"
    )
    assert run["state"] == "success", not_green(stack, [run])
    tries = {ti["task_id"]: ti["try_number"] for ti in stack.task_instances(PAYMENTS, run_id)}
    assert tries["create_base_connection"] >= 2, f"the killed create was not retried: {tries}"
    resources = named(production_emulator.state()["prod"], prefix)
    counts = {kind: len(items) for kind, items in resources.items()}
    assert counts == ONE_EACH, counts
    assert stack.xcom(PAYMENTS, run_id, "create_base_connection") == resources["connections"][0]["id"]


@pytest.mark.timeout(600)
def test_restart_of_every_airflow_process_mid_backfill(
    stack: ProductionAirflow, production_emulator: RunningEmulator, aep_hook: AEPHook
) -> None:
    stack.wait_for_dag(PAYMENTS)
    stack.unpause(PAYMENTS)
    first, last = midnight_utc(10).date(), midnight_utc(8).date()
    backfill_id = create_backfill(stack, PAYMENTS, first, last, max_active_runs=2)
    deadline = time.monotonic() + 300
    while True:
        states = [state for _, state in backfill_states(stack, backfill_id)]
        if "success" in states and "running" in states:
            break
        assert "failed" not in states, states
        assert time.monotonic() < deadline, f"no backfill run finished while another ran: {states}"
        time.sleep(0.5)
    restarted_with = states
    stack.restart_airflow()

    runs = wait_for_backfill(stack, backfill_id, 3)

    print(f"restarted with the backfill's runs {restarted_with}")
    assert sorted(run["state"] for run in runs) == ["success"] * 3, not_green(stack, runs)
    resources = named(production_emulator.state()["prod"], PAYMENTS_PREFIX)
    counts = {kind: len(items) for kind, items in resources.items()}
    assert counts == ONE_EACH, counts
    check_windowed_runs(stack, production_emulator, aep_hook, PAYMENTS, runs)


def redis_contents(stack: ProductionAirflow, path: Path) -> Path:
    """Every key and value in the broker, written to ``path`` (what Celery holds: queues, unacked tasks)."""
    import redis

    client: Any = redis.Redis(host="127.0.0.1", port=stack.redis_port)  # its stubs mix in the async API
    with path.open("wb") as out:
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            if kind == b"string":
                values = [client.get(key) or b""]
            elif kind == b"list":
                values = list(client.lrange(key, 0, -1))
            elif kind == b"hash":
                values = [item for pair in client.hgetall(key).items() for item in pair]
            elif kind == b"set":
                values = list(client.smembers(key))
            elif kind == b"zset":
                values = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
            else:
                values = []
            out.write(key + b"\n" + b"\n".join(values) + b"\n")
    client.close()
    return path


@pytest.mark.timeout(600)
def test_no_secret_in_the_database_logs_or_broker(
    stack: ProductionAirflow, production_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # The SFMC tutorial uses its own secret: one run of it too.
    stack.wait_for_dag(SFMC)
    stack.unpause(SFMC)
    run_id = stack.trigger(SFMC)
    [run] = stack.wait_until_finished([(SFMC, run_id)], timeout=420).values()
    assert run["state"] == "success", not_green(stack, [run])
    # A control: a value stored encrypted (an Airflow variable) must be found, or the search is blind.
    canary = f"canary-{MARKER}"
    response = stack.api.post("/variables", json={"key": "production_stack_canary", "value": canary})
    response.raise_for_status()

    # The search covers the task logs (tracebacks of the killed tries included) of every DAG that ran.
    task_logs = {
        path.parts[-4] for path in (stack.cli.home / "logs").glob("dag_id=*/run_id=*/task_id=*/*.log")
    }
    ran = {dag_id for (dag_id,) in stack.postgres.query("SELECT DISTINCT dag_id FROM dag_run")}
    assert {f"dag_id={dag_id}" for dag_id in ran} <= task_logs, (ran, task_logs)
    dump = stack.postgres.dump(tmp_path / "airflow-data.sql")
    broker = redis_contents(stack, tmp_path / "redis.txt")
    places = [dump, broker, stack.cli.home, stack.log_dir]
    found = find_secrets(places, {**SECRETS, "canary": canary}, stack.fernet())

    assert canary not in dump.read_text(errors="replace"), "the variable should be stored encrypted"
    assert found == [f"{dump}: canary"], "\n".join(found)
