"""Drive real Airflow processes for the end-to-end tests: the CLI, and a running ``airflow standalone``.

Everything runs in subprocesses with a throwaway ``AIRFLOW_HOME`` and the emulator's ``AIRFLOW_CONN_*``
variables, exactly as a user would run Airflow against the emulator.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "example_dags"
EXAMPLE_DAG_IDS = (
    "aep_dataflow_lifecycle",
    "aep_payments_adhoc_schema",
    "aep_payments_batch",
    "aep_payments_downstream",
    "aep_salesforce_marketing_cloud",
    "aep_shopify_streaming",
)
#: Example DAGs scheduled on assets: they ensure no AEP resource (no ``name_prefix``/``sandbox`` params).
ASSET_SCHEDULED_DAG_IDS = ("aep_payments_downstream",)
FINISHED = ("success", "failed")
VENV_BIN = Path(sys.executable).parent


def wait_for_api(api: httpx.Client, timeout: float, exited: Callable[[], str | None], what: str) -> None:
    """Wait until the Airflow API server answers ``GET /monitor/health``.

    :param exited: names a process that has already exited (``None`` while all run): no use waiting.
    :param what: what is started, for the error (where its logs are, too).
    :raises RuntimeError: when a process exited or the API did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gone = exited()
        if gone:
            raise RuntimeError(f"{gone} exited early; see {what}")
        try:
            if api.get("/monitor/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the API server did not answer within {timeout:.0f} s; see {what}")


def epoch(value: str) -> int:
    """Epoch seconds of an Airflow timestamp: ISO from the REST API, or naive UTC from its database."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp())


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, conn_env: Mapping[str, str], **config: str) -> dict[str, str]:
    """The environment of an Airflow process: throwaway home, example DAGs, emulator connections.

    :param home: the ``AIRFLOW_HOME`` (its SQLite database lives there).
    :param conn_env: the ``AIRFLOW_CONN_*`` variables of the emulator.
    :param config: more environment variables (``AIRFLOW__SECTION__KEY`` settings).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(conn_env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            # The log servers of workers and triggerers listen on fixed ports (8793, 8794) by default:
            # free ones, so Airflow deployments of tests running side by side (pytest-xdist) never meet.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    env.update(config)
    return env


class AirflowCli:
    """Runs ``airflow ...`` commands in one ``AIRFLOW_HOME``.

    :param home: the ``AIRFLOW_HOME`` directory (created if missing).
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables.
    :param config: extra ``AIRFLOW__...`` settings for every command.
    """

    def __init__(self, home: Path, conn_env: Mapping[str, str], **config: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = airflow_env(home, conn_env, **config)

    def run(self, *args: str, timeout: float = 180.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>``; with ``check``, a non-zero exit raises with the output."""
        result = subprocess.run(
            [str(VENV_BIN / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout (tail)\n{result.stdout[-6000:]}\n--- stderr (tail)\n{result.stderr[-6000:]}"
            )
        return result

    def migrate(self) -> None:
        """Create the metadata database (``airflow db migrate``)."""
        self.run("db", "migrate")

    def dags_test(
        self, dag_id: str, logical_date: str, conf: Mapping[str, Any] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``airflow dags test <dag_id> <date> [-c conf]``: one DAG run, tasks (and triggers) in-process."""
        args = ["dags", "test", dag_id, logical_date]
        if conf:
            args += ["-c", json.dumps(conf)]
        return self.run(*args, check=check)

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG runs Airflow recorded in its SQLite database, newest first."""
        with sqlite3.connect(self.home / "airflow.db") as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT run_id, state, logical_date, data_interval_start, data_interval_end "
                "FROM dag_run WHERE dag_id = ? ORDER BY id DESC",
                (dag_id,),
            ).fetchall()
        return [dict(row) for row in rows]


class StandaloneAirflow:
    """``airflow standalone`` (API server + UI, scheduler, dag processor, triggerer) on a free port.

    Login is skipped (``simple_auth_manager_all_admins``) so the REST API and the UI answer directly.

    :param home: its own ``AIRFLOW_HOME`` (standalone migrates the database itself).
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables.
    :param log_path: where the processes' combined output goes.
    :param command: what starts it, default ``airflow standalone`` (``scripts/standalone.sh`` serves
        the API on the ``AIRFLOW__API__PORT`` it is given, too).
    :param config: extra ``AIRFLOW__...`` settings (environment variables).
    """

    def __init__(
        self,
        home: Path,
        conn_env: Mapping[str, str],
        log_path: Path,
        command: Sequence[str] | None = None,
        **config: str,
    ) -> None:
        self.command = list(command or [str(VENV_BIN / "airflow"), "standalone"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            **config,
        }
        self.cli = AirflowCli(home, conn_env, **settings)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.api = httpx.Client(base_url=f"{self.url}/api/v2", timeout=30.0)

    def start(self, timeout: float = 180.0) -> StandaloneAirflow:
        """Start it (its own process group) and wait until the API answers."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command,
                env=self.cli.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self._process
        try:
            wait_for_api(
                self.api,
                timeout,
                exited=lambda: " ".join(self.command) if process.poll() is not None else None,
                what=str(self.log_path),
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the dag processor has serialized ``dag_id``; return the API's DAG object."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.api.get(f"/dags/{dag_id}/details")
            if response.status_code == 200:
                details: dict[str, Any] = response.json()
                return details
            time.sleep(0.5)
        raise AssertionError(f"DAG {dag_id} was not parsed within {timeout:.0f} s; see {self.log_path}")

    def unpause(self, dag_id: str) -> None:
        """Unpause ``dag_id`` (REST API): the scheduler starts no task of a paused DAG."""
        response = self.api.patch(f"/dags/{dag_id}", json={"is_paused": False})
        response.raise_for_status()

    def post_until_answered(self, path: str, body: Mapping[str, Any], attempts: int = 5) -> httpx.Response:
        """``POST`` to the REST API, sent again (2 s apart, ``attempts`` times at most) while it answers
        5xx: SQLite "database is locked" while the scheduler writes, under load. The last answer."""
        for _ in range(attempts - 1):
            response = self.api.post(path, json=body)
            if response.status_code < 500:
                return response
            time.sleep(2.0)
        return self.api.post(path, json=body)

    def trigger(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        """Trigger a DAG run through the REST API and return its run id (no logical date by default).

        The run id is chosen here, so a POST answered 500 (SQLite "database is locked" while the
        scheduler writes, under load) is sent again without making a second run: a 409 means the first
        one was stored after all.
        """
        run_id = f"manual__{datetime.now(timezone.utc).isoformat()}_{uuid.uuid4().hex[:8]}"
        body = {"dag_run_id": run_id, "logical_date": logical_date, "conf": dict(conf or {})}
        response = self.post_until_answered(f"/dags/{dag_id}/dagRuns", body)
        if response.status_code == 409 and self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").is_success:
            return run_id
        response.raise_for_status()
        created: str = response.json()["dag_run_id"]
        return created

    def trigger_from_cli(self, dag_id: str, attempts: int = 5) -> str:
        """``airflow dags trigger <dag_id>``, as typed (no logical date), in this home; its run id.

        The CLI writes the SQLite database the scheduler holds: "database is locked" is tried again.
        """
        for _ in range(attempts):
            result = self.cli.run("dags", "trigger", dag_id, "--output", "json", check=False)
            if result.returncode == 0:
                # The JSON list is the last line; warnings may come before it.
                [created] = json.loads(result.stdout.strip().splitlines()[-1])
                run_id: str = created["dag_run_id"]
                return run_id
            if "database is locked" not in result.stdout + result.stderr:
                break
            time.sleep(2.0)
        raise AssertionError(
            f"airflow dags trigger {dag_id} exited {result.returncode}\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-3000:]}"
        )

    def create_backfill(self, dag_id: str, from_date: str, to_date: str) -> dict[str, Any]:
        """Create a backfill through the REST API (``POST /backfills``); the scheduler runs it.

        The REST API rather than ``airflow backfill create``: a second process writing the SQLite
        database while the scheduler holds it fails with "database is locked".
        """
        body = {"dag_id": dag_id, "from_date": from_date, "to_date": to_date, "max_active_runs": 3}
        response = self.post_until_answered("/backfills", body)
        response.raise_for_status()
        backfill: dict[str, Any] = response.json()
        return backfill

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every DAG run of ``dag_id`` (REST API)."""
        response = self.api.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        response.raise_for_status()
        runs: list[dict[str, Any]] = response.json()["dag_runs"]
        return runs

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """One DAG run (REST API)."""
        response = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}")
        response.raise_for_status()
        run: dict[str, Any] = response.json()
        return run

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """The XCom value a task of a DAG run pushed (REST API)."""
        response = self.api.get(
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"deserialize": True},
        )
        response.raise_for_status()
        return response.json()["value"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Task instances of one DAG run (REST API)."""
        response = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        response.raise_for_status()
        instances: list[dict[str, Any]] = response.json()["task_instances"]
        return instances

    def wait_for_runs(
        self, dag_id: str, count: int, timeout: float = 240.0, poll: float = 0.5
    ) -> list[dict[str, Any]]:
        """Wait until ``dag_id`` has ``count`` finished runs (success or failed); return all its runs."""
        deadline = time.monotonic() + timeout
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = self.dag_runs(dag_id)
            finished = [run for run in runs if run["state"] in FINISHED]
            if len(finished) >= count:
                return runs
            time.sleep(poll)
        states = [(run["dag_run_id"], run["state"]) for run in runs]
        raise AssertionError(f"{dag_id}: {count} finished runs expected within {timeout:.0f} s, got {states}")

    def wait_until_finished(
        self, runs: Iterable[tuple[str, str]], timeout: float = 600.0, poll: float = 0.5
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Wait until every ``(dag_id, run_id)`` has finished (success or failed); return each run."""
        pending = set(runs)
        finished: dict[tuple[str, str], dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for dag_id, run_id in sorted(pending):
                run = self.dag_run(dag_id, run_id)
                if run["state"] in FINISHED:
                    finished[(dag_id, run_id)] = run
                    pending.discard((dag_id, run_id))
            if pending:
                time.sleep(poll)
        if pending:
            states = {key: self.dag_run(*key)["state"] for key in sorted(pending)}
            raise AssertionError(f"not finished within {timeout:.0f} s: {states}; see {self.log_path}")
        return finished

    def stop(self) -> None:
        """Stop every process of the standalone (its own process group) and wait for them."""
        self.api.close()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # A throwaway deployment: a short grace, then SIGKILL (a graceful stop can wait 30 s on tasks).
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
