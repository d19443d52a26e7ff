"""Airflow under the CeleryExecutor, every component its own process: a local Redis broker, the API
server, the scheduler, the dag processor, the triggerer and a Celery worker (the docs recipe
"The CeleryExecutor with a local Redis", docs/howto/production.md).

Components can be killed, stopped and started one by one (``tests/e2e/production_stack.py`` kills a
triggerer and the worker, and restarts every Airflow process while Redis keeps running).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .harness import VENV_BIN, StandaloneAirflow, free_port, wait_for_api

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


#: Each Airflow component: its name (and log file) and its ``airflow ...`` arguments.
def celery_worker(concurrency: int) -> tuple[str, ...]:
    """``airflow celery worker`` with ``concurrency`` task slots, as the test stacks run it: one worker, so
    nothing to sync with (mingle waits a second for neighbours' replies at each start) and no neighbours'
    events to subscribe to (gossip)."""
    return (
        "celery",
        "worker",
        "--concurrency",
        str(concurrency),
        "--skip-serve-logs",
        "--without-mingle",
        "--without-gossip",
    )


COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
    "celery-worker": celery_worker(concurrency=2),
}
REDIS = "redis"


class CeleryAirflow(StandaloneAirflow):
    """The same REST helpers as :class:`StandaloneAirflow`, over separately started components.

    :param home: a throwaway ``AIRFLOW_HOME``.
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables.
    :param log_dir: one log file per process (a restarted process appends to its file).
    :param components: the Airflow processes to run, by name (default :data:`COMPONENTS`).
    :param config: more ``AIRFLOW__...`` settings; they override the SQLite Celery result backend too.
    """

    def __init__(
        self,
        home: Path,
        conn_env: Mapping[str, str],
        log_dir: Path,
        *,
        components: Mapping[str, Sequence[str]] | None = None,
        **config: str,
    ) -> None:
        self.redis_port = free_port()
        settings = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{home / 'celery-results.db'}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            **config,
        }
        super().__init__(home, conn_env, log_path=log_dir / "api-server.log", **settings)
        self.log_dir = log_dir
        self.components = {name: tuple(args) for name, args in (components or COMPONENTS).items()}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logged: set[str] = set()

    def spawn(
        self, name: str, command: Sequence[str] | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start one process in its own process group, output to ``<log_dir>/<name>.log``.

        :param command: what to run; by default the Airflow component ``name``.
        :param env: more environment variables for this process only.
        """
        if command is None:
            command = [str(VENV_BIN / "airflow"), *self.components[name]]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # A restart appends (with a marker line); the first start of this stack truncates.
        mode = "ab" if name in self._logged else "wb"
        self._logged.add(name)
        with (self.log_dir / f"{name}.log").open(mode) as log:
            log.write(f"--- started {time.strftime('%H:%M:%S')}: {' '.join(command)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                env={**self.cli.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes[name] = process
        return process

    def start_redis(self) -> None:
        """Start the broker: a Redis without persistence on its free port."""
        self.spawn(
            REDIS,
            [
                REDIS_SERVER,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )

    def start_components(self) -> None:
        """Start every Airflow component (all at once)."""
        for name in self.components:
            self.spawn(name)

    def exited(self) -> str | None:
        """The names of the started processes that have exited, or ``None`` while all run."""
        gone = [name for name, process in self._processes.items() if process.poll() is not None]
        return ", ".join(gone) or None

    def wait_for_api_server(self, timeout: float = 180.0) -> None:
        """Wait until the API server answers; stop everything and raise if it does not."""
        try:
            wait_for_api(self.api, timeout, exited=self.exited, what=str(self.log_dir))
        except RuntimeError:
            self.stop()
            raise

    def start(self, timeout: float = 180.0) -> CeleryAirflow:
        """Start Redis, migrate the database, start every component; wait for the API."""
        self.start_redis()
        try:
            self.cli.migrate()
            self.start_components()
        except BaseException:
            self.stop()
            raise
        self.wait_for_api_server(timeout)
        return self

    def worker_log(self) -> str:
        """What the Celery worker printed so far."""
        return (self.log_dir / "celery-worker.log").read_text(errors="replace")

    def pid(self, name: str) -> int:
        """The process id of a running component (also its process group id)."""
        return self._processes[name].pid

    def kill(self, *names: str, sig: signal.Signals = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Send ``sig`` to the whole process group of each component named (``kill -9`` by default), then
        reap them; one that outlives ``timeout`` after another signal than SIGKILL is killed."""
        processes = [self._processes.pop(name) for name in names if name in self._processes]
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # Children that outlived their parent (a task process of the worker) must not linger.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def stop_airflow(self, timeout: float = 30.0) -> None:
        """Stop every Airflow component (SIGTERM, all at once; SIGKILL for any still running after
        ``timeout``); Redis keeps running."""
        self.kill(*self.components, sig=signal.SIGTERM, timeout=timeout)

    def stop(self, grace: float = 3.0) -> None:
        """Stop every component (each its own process group), Redis last: SIGTERM, then SIGKILL after
        ``grace``. The stack is thrown away, so nothing waits for a graceful end (a Celery worker's warm
        shutdown waits for its running tasks, a triggerer for its triggers); a test that proves a
        graceful restart uses :meth:`stop_airflow`."""
        self.api.close()
        self.stop_airflow(timeout=grace)
        self.kill(REDIS, sig=signal.SIGTERM, timeout=grace)
