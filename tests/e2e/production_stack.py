"""The production stack: PostgreSQL as Airflow's metadata database, the CeleryExecutor with a local
Redis, a scheduler, a dag processor, an API server, a Celery worker and two triggerers, each its own
process (the docs recipe "PostgreSQL, CeleryExecutor and two triggerers", docs/howto/production.md).

PostgreSQL is a throwaway cluster the test starts itself: ``initdb`` into a temporary directory, then
``postgres`` on a free loopback port with its unix socket in that directory. Tests run as root, which
PostgreSQL refuses: as root the cluster is owned and run by the ``postgres`` user Debian's package
creates.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg2
from cryptography.fernet import Fernet, InvalidToken

from .celery_stack import CeleryAirflow, celery_worker
from .harness import DAGS_FOLDER, free_port

#: The Airflow processes of the production stack. Two triggerers share the deferred waits; none serves
#: logs over HTTP (every process runs on this machine and writes its logs under ``AIRFLOW_HOME``, and
#: two triggerers on one host would contend for the log server's port).
PRODUCTION_COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    # 8 task slots (the recipe's 4 made the backfill's tasks queue for 10-20 s: 6 DAG runs at once, each
    # task mostly waiting on AEP).
    "celery-worker": celery_worker(concurrency=8),
    "triggerer-1": ("triggerer", "--skip-serve-logs"),
    "triggerer-2": ("triggerer", "--skip-serve-logs"),
}
TRIGGERERS = ("triggerer-1", "triggerer-2")
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"


def postgres_bin_dir() -> Path | None:
    """The directory of PostgreSQL's server programs (``initdb``, ``postgres``, ``pg_dump``), if installed.

    Debian keeps them in ``/usr/lib/postgresql/<version>/bin`` (the newest version wins); elsewhere they
    may be on ``PATH``.
    """

    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))

    debian = sorted((path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/postgres")), key=version)
    if debian:
        return debian[-1]
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path and (Path(on_path).parent / "initdb").exists() else None


POSTGRES_BIN = postgres_bin_dir()


class PostgresCluster:
    """A throwaway PostgreSQL cluster: trust authentication, loopback TCP and a private socket directory.

    :param bin_dir: where ``initdb``, ``postgres`` and ``pg_dump`` are.
    :param user: the superuser ``initdb`` creates, which Airflow connects as.
    :param database: the database Airflow uses.
    """

    def __init__(self, bin_dir: Path, user: str = "airflow", database: str = "airflow") -> None:
        self.bin_dir = bin_dir
        self.user = user
        self.database = database
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server may run as ``postgres``.
        self.root = Path(tempfile.mkdtemp(prefix="aep-postgres-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_path = self.root / "postgres.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (``psycopg2``, the driver Airflow recommends)."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _as_owner(self) -> dict[str, Any]:
        """``Popen`` arguments that run a server program as the cluster's owner (``postgres`` as root)."""
        if self._owner is None:
            return {}
        return {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}

    def start(self, timeout: float = 60.0) -> PostgresCluster:
        """``initdb``, start ``postgres`` and create the database; raise with the server log if it fails."""
        self.socket_dir.mkdir()
        if self._owner is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                self.user,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **self._as_owner(),
        )
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.socket_dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=200",
                    # A throwaway cluster: durability buys nothing here.
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_owner(),
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = psycopg2.connect(self.dsn("postgres"))
                break
            except psycopg2.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    log_text = self.log_path.read_text(errors="replace")
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start:\n{log_text}") from None
                time.sleep(0.2)
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            connection.close()
        return self

    def dsn(self, database: str | None = None) -> str:
        """A libpq connection string (loopback TCP, trust authentication)."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database or self.database}"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only statement in the Airflow database and return its rows."""
        connection = psycopg2.connect(self.dsn())
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def dump(self, path: Path, tables: Sequence[str] = ()) -> Path:
        """``pg_dump --data-only`` of the Airflow database (or of ``tables``) into ``path``."""
        args = [str(self.bin_dir / "pg_dump"), "--data-only", "--file", str(path), "--dbname", self.dsn()]
        for table in tables:
            args += ["--table", table]
        subprocess.run(args, check=True, capture_output=True, timeout=120)
        return path

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the cluster's directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def bundle_config(dag_folders: Mapping[str, Path]) -> str:
    """``[dag_processor] dag_bundle_config_list``: one local bundle per DAG folder, by bundle name."""
    bundles = [
        {"name": name, "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(folder), "refresh_interval": 5}}
        for name, folder in dag_folders.items()
    ]
    return json.dumps(bundles)


class ProductionAirflow(CeleryAirflow):
    """The REST helpers of :class:`CeleryAirflow` over the production stack, plus its database.

    Every component shares one configuration, as every host of a real deployment must: the metadata
    database, the broker, the Fernet key that encrypts connection passwords and trigger arguments, and
    the secrets that sign the API server's sessions and the tasks' JWTs.

    :param home: a throwaway ``AIRFLOW_HOME``.
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables.
    :param log_dir: one log file per process.
    :param postgres: the running metadata database.
    :param dag_folders: DAG bundle name -> folder (default: the example DAGs only, as ``dags-folder``).
    :param config: more ``AIRFLOW__...`` settings.
    """

    def __init__(
        self,
        home: Path,
        conn_env: Mapping[str, str],
        log_dir: Path,
        postgres: PostgresCluster,
        dag_folders: Mapping[str, Path] | None = None,
        **config: str,
    ) -> None:
        self.postgres = postgres
        self.fernet_key = Fernet.generate_key().decode()
        settings = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres.url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
            # A scheduler stopped right after it marked a task queued, before it sent it to Celery,
            # leaves the task queued until this timeout (600 s by default) once started again: seen in
            # the restart test. 120 s, checked every 10 s, lets that task be queued again within ~2 min
            # (it also bounds a queued task's token lifetime: no task waits that long for a slot here).
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": bundle_config(
                dag_folders or {"dags-folder": DAGS_FOLDER}
            ),
            # Nothing runs before a test asks for it (the tests unpause what they use).
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # A task whose worker died is failed (and retried) 12 s after its last heartbeat, not 300 ...
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "12",
            # ... looked for every 2 s (default 10) ...
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            # ... while a live task's supervisor heartbeats every 2 s (default 5): it would have to miss 5
            # heartbeats in a row to be taken for dead.
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
            # A triggerer that stopped heartbeating loses its triggers to the other after 10 s (default 30),
            # while a live one heartbeats every 2 s (default 5): 5 missed heartbeats in a row.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            # Each triggerer claims at most 2 new triggers per loop, so both triggerers get some.
            "AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP": "2",
            **config,
        }
        super().__init__(home, conn_env, log_dir, components=PRODUCTION_COMPONENTS, **settings)
        #: The ``job`` row id of each running triggerer, by component name.
        self.triggerer_jobs: dict[str, int] = {}

    def start(self, timeout: float = 240.0) -> ProductionAirflow:
        """Start Redis, migrate PostgreSQL, start every component; wait for the API."""
        super().start(timeout)
        return self

    def start_components(self) -> None:
        """Start every component at once; wait until each triggerer has registered its job."""
        for name in self.components:
            if name not in TRIGGERERS:
                self.spawn(name)
        self.start_triggerers(*TRIGGERERS)

    def start_triggerers(self, *names: str, wait: bool = True, timeout: float = 120.0) -> dict[str, int]:
        """Start triggerers (all at once) and, with ``wait``, return the id of the ``TriggererJob`` each
        registers (also kept in :attr:`triggerer_jobs`); without, their old ids are forgotten.

        A job row tells which process it is by its ``unixname``: ``getpass.getuser()``, which reads
        ``LOGNAME`` first, set to the component's name for each triggerer.
        """
        jobs = "SELECT id, unixname FROM job WHERE job_type = 'TriggererJob'"
        known = {job_id for job_id, _ in self.postgres.query(jobs)}
        for name in names:
            self.triggerer_jobs.pop(name, None)
            self.spawn(name, env={"LOGNAME": name})
        if not wait:
            return {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job_id, unixname in self.postgres.query(jobs + " AND state = 'running' ORDER BY id"):
                if job_id not in known and unixname in names:
                    self.triggerer_jobs[unixname] = int(job_id)
            if all(name in self.triggerer_jobs for name in names):
                return {name: self.triggerer_jobs[name] for name in names}
            if self.exited():
                break
            time.sleep(0.2)
        missing = [name for name in names if name not in self.triggerer_jobs]
        raise RuntimeError(
            f"{', '.join(missing)} registered no TriggererJob within {timeout:.0f} s "
            f"(exited: {self.exited()}); see {self.log_dir}"
        )

    def restart_airflow(self, timeout: float = 240.0) -> None:
        """Stop every Airflow process gracefully (SIGTERM, up to 30 s), then start them again; PostgreSQL
        and Redis keep running."""
        self.stop_airflow(timeout=30.0)
        self.triggerer_jobs.clear()
        self.start_components()
        self.wait_for_api_server(timeout)

    def trigger_assignments(self, dag_id: str) -> dict[int, int | None]:
        """``trigger id -> triggerer job id`` (``None``: unassigned) of the deferred tasks of ``dag_id``."""
        rows = self.postgres.query(
            "SELECT t.id, t.triggerer_id FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = %s",
            (dag_id,),
        )
        return {trigger_id: triggerer_id for trigger_id, triggerer_id in rows}

    def task_instance_rows(self, dag_id: str) -> list[dict[str, Any]]:
        """Every task instance of ``dag_id`` straight from the database (state, try number, trigger)."""
        rows = self.postgres.query(
            "SELECT run_id, task_id, state, try_number, trigger_id FROM task_instance WHERE dag_id = %s",
            (dag_id,),
        )
        keys = ("run_id", "task_id", "state", "try_number", "trigger_id")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def fernet(self) -> Fernet:
        """The stack's Fernet key: it decrypts trigger arguments and connection passwords in the database."""
        return Fernet(self.fernet_key.encode())


def readable_forms(data: bytes, fernet: Fernet) -> Iterator[bytes]:
    """``data`` and what it hides from a plain search: every Fernet token decrypted, every PostgreSQL
    ``bytea`` value (``\\x<hex>`` in a dump) decoded and, when compressed, inflated, and every base64 run
    (Celery message bodies) decoded."""
    yield data
    for token in set(re.findall(rb"gAAAAA[A-Za-z0-9_\-=]{20,}", data)):
        try:
            yield fernet.decrypt(token)
        except InvalidToken:
            continue
    for hex_run in set(re.findall(rb"\\\\x((?:[0-9a-f]{2})+)", data)):
        raw = binascii.unhexlify(hex_run)
        yield raw
        with contextlib.suppress(zlib.error):
            yield zlib.decompress(raw)
    for b64_run in set(re.findall(rb"[A-Za-z0-9+/]{40,}={0,2}", data)):
        try:
            yield base64.b64decode(b64_run + b"=" * (-len(b64_run) % 4))
        except (binascii.Error, ValueError):
            continue


def find_secrets(paths: Sequence[Path], needles: Mapping[str, str], fernet: Fernet) -> list[str]:
    """Every ``"<file>: <secret name>"`` where a secret's value occurs in a file (or in what it hides).

    :param paths: files, or directories searched recursively.
    :param needles: secret name -> value.
    """
    found: list[str] = []
    files = sorted({file for path in paths for file in ([path] if path.is_file() else path.rglob("*"))})
    for file in files:
        if not file.is_file():
            continue
        data = file.read_bytes()
        forms = list(readable_forms(data, fernet))
        for name, value in needles.items():
            if any(value.encode() in form for form in forms):
                found.append(f"{file}: {name}")
    return found
