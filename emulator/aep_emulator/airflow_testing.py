"""Run a DAG end to end against the emulator: ``airflow dags test`` in a subprocess, then what happened.

:class:`AirflowDagTester` (the ``aep_airflow`` pytest fixture) and :func:`run_dag_test` run one DAG run
exactly as ``airflow dags test <dag_id> <date>`` does, with every task (and trigger) in that process, in a
throwaway ``AIRFLOW_HOME`` whose SQLite database is migrated once, and the emulator's ``AIRFLOW_CONN_*``
variables. They return a :class:`DagTestResult`: the DAG run's state, each task's state, the XComs and the
command's output.

Why a subprocess and not ``dag.test()`` in the test process: Airflow reads its configuration (home,
database, DAGs folder) once, at import, so a test process cannot point it at a fresh home per session;
and a DAG run then runs as it does for the user, in its own interpreter. This module imports nothing from
Airflow: the emulator's distribution does not depend on it. The ``airflow`` that runs is the one installed
next to the running Python (``python -m airflow``), which is where the provider is.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

#: Seconds one ``airflow dags test`` may take before it is killed.
DEFAULT_TIMEOUT = 600.0
#: How much of the command's output an error message quotes.
OUTPUT_TAIL = 6000


class DagTestError(RuntimeError):
    """``airflow`` could not run the DAG at all (no such DAG, a DAG file that fails to import, a broken
    Airflow home): no DAG run was recorded. The message ends with the tail of Airflow's output."""


@dataclass(frozen=True)
class DagTestResult:
    """What one ``airflow dags test`` run left behind.

    :ivar dag_id: the DAG.
    :ivar run_id: the DAG run's id (``manual__<date>``).
    :ivar state: the DAG run's final state: ``success`` or ``failed``.
    :ivar task_states: task id -> final state (``success``, ``failed``, ``skipped``,
        ``upstream_failed``...); a mapped task's instances as ``task_id[index]``. Task ids in a task
        group carry the group prefix (``run_and_wait.wait_for_run``).
    :ivar xcoms: ``(task id, key)`` -> value, for every XCom the run pushed (values decoded from JSON).
    :ivar output: the command's stdout and stderr (task logs included), for messages and debugging.
    :ivar returncode: the command's exit status (non-zero when the DAG run failed).
    """

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str | None]
    xcoms: dict[tuple[str, str], Any] = field(repr=False)
    output: str = field(repr=False)
    returncode: int = 0

    @property
    def succeeded(self) -> bool:
        """Whether the DAG run succeeded."""
        return self.state == "success"

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        """One XCom of the run (a task's return value by default).

        :raises KeyError: when the task pushed nothing under ``key``, naming what it did push.
        """
        if (task_id, key) not in self.xcoms:
            pushed = sorted(k for t, k in self.xcoms if t == task_id)
            raise KeyError(f"{task_id} pushed no XCom {key!r}; it pushed {pushed}")
        return self.xcoms[(task_id, key)]

    def failed_tasks(self) -> list[str]:
        """Ids of the tasks that did not succeed or get skipped (``failed``, ``upstream_failed``...)."""
        return sorted(task for task, state in self.task_states.items() if state not in ("success", "skipped"))

    def output_tail(self, chars: int = OUTPUT_TAIL) -> str:
        """The end of the command's output, for an assertion message: ``assert result.succeeded,
        result.output_tail()``."""
        return self.output[-chars:]


class AirflowDagTester:
    """Runs ``airflow dags test`` for the DAGs of one folder (or file) in one ``AIRFLOW_HOME``.

    :param airflow_home: the throwaway ``AIRFLOW_HOME`` (created if missing; its ``airflow.db`` is
        migrated before the first run).
    :param dags: the DAGs folder, or one DAG file.
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables (``RunningEmulator.conn_env()``).
    :param env: more environment variables for Airflow (``AIRFLOW__SECTION__KEY`` settings...).
    :raises FileNotFoundError: when ``dags`` does not exist.
    """

    def __init__(
        self,
        airflow_home: Path | str,
        dags: Path | str,
        conn_env: Mapping[str, str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.airflow_home = Path(airflow_home).resolve()
        self.dags = Path(dags).resolve()
        if not self.dags.exists():
            raise FileNotFoundError(f"dags: {self.dags} does not exist")
        self.conn_env = dict(conn_env)
        self.extra_env = dict(env or {})

    @property
    def dags_folder(self) -> Path:
        """The folder Airflow parses (``dags`` itself, or the folder of a single DAG file)."""
        return self.dags if self.dags.is_dir() else self.dags.parent

    def environment(self) -> dict[str, str]:
        """The environment of the ``airflow`` subprocess: this process's, without its own ``AIRFLOW*``
        variables, plus the home, its SQLite database, the DAGs folder, no example DAGs, the connections,
        then ``env``."""
        environ = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        environ.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.database}",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "PYTHONUNBUFFERED": "1",
            }
        )
        environ.update(self.conn_env)
        environ.update(self.extra_env)
        return environ

    @property
    def database(self) -> Path:
        """Airflow's SQLite metadata database in the home."""
        return self.airflow_home / "airflow.db"

    def airflow(self, *args: str, timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run ``python -m airflow <args>`` in this home; the exit status is the caller's to judge."""
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        """Create the metadata database (``airflow db migrate``) unless it exists.

        :raises DagTestError: when the migration fails.
        """
        if self.database.exists():
            return
        done = self.airflow("db", "migrate")
        if done.returncode != 0:
            raise DagTestError(f"airflow db migrate exited {done.returncode}\n{_tail(done)}")

    def run(
        self,
        dag_id: str,
        logical_date: date | datetime | str | None = None,
        conf: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> DagTestResult:
        """One DAG run, ``airflow dags test <dag_id> [<logical_date>] [-c <conf>]``, to its end.

        :param dag_id: the DAG to run.
        :param logical_date: its logical date (a date, a datetime with a time zone, or ISO text); ``None``
            runs it now, as ``airflow dags test`` does.
        :param conf: the DAG run's ``conf`` (its ``params`` overrides), JSON-serializable.
        :param timeout: seconds before the command is killed (``subprocess.TimeoutExpired``).
        :raises DagTestError: when Airflow recorded no DAG run (the DAG is unknown or does not import).
        """
        self.migrate()
        args = ["dags", "test", dag_id]
        if logical_date is not None:
            args.append(logical_date if isinstance(logical_date, str) else logical_date.isoformat())
        if conf is not None:
            args += ["-c", json.dumps(dict(conf))]
        if not self.dags.is_dir():
            args += ["--dagfile-path", str(self.dags)]
        before = self._latest_run_row(dag_id)
        done = self.airflow(*args, timeout=timeout)
        row = self._latest_run_row(dag_id)
        if row is None or row == before:
            raise DagTestError(
                f"airflow dags test {dag_id} recorded no DAG run (exit {done.returncode}): is {dag_id!r} "
                f"a DAG of {self.dags} that imports cleanly?\n{_tail(done)}"
            )
        run_id, state = str(row[1]), str(row[2])
        return DagTestResult(
            dag_id=dag_id,
            run_id=run_id,
            state=state,
            task_states=self._task_states(dag_id, run_id),
            xcoms=self._xcoms(dag_id, run_id),
            output=done.stdout + done.stderr,
            returncode=done.returncode,
        )

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.database.exists():
            return []
        with sqlite3.connect(self.database) as db:
            return list(db.execute(sql, params).fetchall())

    def _latest_run_row(self, dag_id: str) -> tuple[Any, ...] | None:
        rows = self._query("SELECT id, run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC", dag_id)
        return rows[0] if rows else None

    def _task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        rows = self._query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ? "
            "ORDER BY task_id, map_index",
            dag_id,
            run_id,
        )
        return {(task if index < 0 else f"{task}[{index}]"): state for task, index, state in rows}

    def _xcoms(self, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
        rows = self._query(
            "SELECT task_id, key, value FROM xcom WHERE dag_id = ? AND run_id = ? AND map_index < 0",
            dag_id,
            run_id,
        )
        return {(task, key): _decoded(value) for task, key, value in rows}


def run_dag_test(
    dags: Path | str,
    dag_id: str,
    *,
    conn_env: Mapping[str, str],
    airflow_home: Path | str,
    logical_date: date | datetime | str | None = None,
    conf: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DagTestResult:
    """One ``airflow dags test`` run of ``dag_id`` from ``dags`` (a folder or a DAG file), without pytest:
    ``AirflowDagTester(airflow_home, dags, conn_env, env).run(dag_id, logical_date, conf)``.

    :param dags: the DAGs folder, or one DAG file.
    :param dag_id: the DAG to run.
    :param conn_env: the emulator's ``AIRFLOW_CONN_*`` variables (``RunningEmulator.conn_env()``).
    :param airflow_home: a throwaway ``AIRFLOW_HOME``, migrated on first use and reusable across runs.
    :param logical_date: the DAG run's logical date (``None``: now).
    :param conf: the DAG run's ``conf``.
    :param env: more environment variables for Airflow.
    :param timeout: seconds before the command is killed.
    """
    tester = AirflowDagTester(airflow_home, dags, conn_env, env)
    return tester.run(dag_id, logical_date=logical_date, conf=conf, timeout=timeout)


def _decoded(value: Any) -> Any:
    """An XCom value from Airflow's table: JSON text (Airflow 3), else what is stored."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return f"--- stdout (tail)\n{done.stdout[-OUTPUT_TAIL:]}\n--- stderr (tail)\n{done.stderr[-OUTPUT_TAIL:]}"
