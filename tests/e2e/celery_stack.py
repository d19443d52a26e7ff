"""Airflow under the CeleryExecutor, every component its own process: a local Redis broker, the API
server, the scheduler, the dag processor, the triggerer and a Celery worker (the recipe of
``docs/dags.md``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .harness import VENV_BIN, StandaloneAirflow, free_port, wait_for_api

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
COMPONENTS = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
    "celery-worker": ("celery", "worker", "--concurrency", "2", "--skip-serve-logs"),
}


class CeleryAirflow(StandaloneAirflow):
    """The same REST helpers as :class:`StandaloneAirflow`, over separately started components.

    :param home: a throwaway ``AIRFLOW_HOME``.
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables.
    :param log_dir: one log file per process.
    """

    def __init__(self, home: Path, conn_env: Mapping[str, str], log_dir: Path) -> None:
        self.redis_port = free_port()
        super().__init__(
            home,
            conn_env,
            log_path=log_dir / "api-server.log",
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            AIRFLOW__CELERY__RESULT_BACKEND=f"db+sqlite:///{home / 'celery-results.db'}",
            AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        )
        self.log_dir = log_dir
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, command: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("wb") as log:
            self._processes[name] = subprocess.Popen(
                command, env=self.cli.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start(self, timeout: float = 180.0) -> CeleryAirflow:
        """Start Redis, migrate the database, start every component; wait for the API."""
        self._spawn(
            "redis",
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
        self.cli.migrate()
        for name, args in COMPONENTS.items():
            self._spawn(name, [str(VENV_BIN / "airflow"), *args])

        def exited() -> str | None:
            gone = [name for name, process in self._processes.items() if process.poll() is not None]
            return ", ".join(gone) or None

        try:
            wait_for_api(self.api, timeout, exited=exited, what=str(self.log_dir))
        except RuntimeError:
            self.stop()
            raise
        return self

    def worker_log(self) -> str:
        """What the Celery worker printed so far."""
        return (self.log_dir / "celery-worker.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop every component (each its own process group), the worker first, Redis last."""
        self.api.close()
        order = ["celery-worker", "scheduler", "triggerer", "dag-processor", "api-server", "redis"]
        for name in order:
            process = self._processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
