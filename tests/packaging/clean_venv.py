"""A clean venv holding only what it was given, the Airflow CLI and the ``aep-emulator`` server run from it.

Nothing of the development venv or of the repository can leak in: the venv is made by ``uv venv``
(no ``--system-site-packages``), every command runs in a temporary directory (never the repository,
whose ``airflow_provider_aep/`` would shadow the installed one) with ``PYTHONPATH``, ``VIRTUAL_ENV``,
every ``AIRFLOW*`` variable and ``./.venv/bin`` removed from its environment.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import AirflowCli, free_port
from tests.packaging.distributions import UV, VENV_BIN, run_checked

#: Environment variables of this test process that would make the clean venv see the development one.
LEAKING = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


class CleanVenv:
    """A venv with only ``requirements`` installed (and what they depend on, resolved by uv).

    :param path: the venv's directory.
    :param workdir: where its commands run (a temporary directory, never the repository).
    """

    def __init__(self, path: Path, workdir: Path) -> None:
        self.path = path
        self.bin = path / "bin"
        self.workdir = workdir
        #: seconds ``uv pip install`` took (Airflow and its ~130 dependencies, from uv's cache when warm)
        self.install_seconds = 0.0

    @classmethod
    def create(cls, path: Path, requirements: Sequence[str]) -> CleanVenv:
        """``uv venv`` then ``uv pip install --compile-bytecode <requirements>``.

        ``--compile-bytecode``: with ``PYTHONDONTWRITEBYTECODE`` set (as on the development machine),
        every Airflow process would otherwise compile its imports again, about 3x slower.
        """
        workdir = path.parent / f"{path.name}-work"
        workdir.mkdir(parents=True)
        venv = cls(path, workdir)
        env = venv.env()
        run_checked([str(UV), "venv", "--quiet", "--python", sys.executable, str(path)], 120, env=env)
        started = time.monotonic()
        install = [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",
            "--python",
            str(venv.bin / "python"),
        ]
        run_checked([*install, *requirements], 900, env=env, cwd=workdir)
        venv.install_seconds = time.monotonic() - started
        return venv

    def env(self, **extra: str) -> dict[str, str]:
        """This process's environment without what points at the dev venv; this venv's ``bin`` first."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in LEAKING and not key.startswith("AIRFLOW")
        }
        path = [entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != VENV_BIN]
        env["PATH"] = os.pathsep.join([str(self.bin), *path])
        env["VIRTUAL_ENV"] = str(self.path)
        env.update(extra)
        return env

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args[0]`` from this venv's ``bin`` in ``workdir``; with ``check`` a failure raises."""
        command = [str(self.bin / args[0]), *args[1:]]
        environment = dict(env) if env is not None else self.env()
        if check:
            return run_checked(command, timeout, env=environment, cwd=self.workdir)
        return subprocess.run(
            command,
            env=environment,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> str:
        """Run ``python -c code`` in this venv; its standard output."""
        return self.run("python", "-c", code).stdout


class CleanVenvAirflow(AirflowCli):
    """The ``airflow`` CLI of a clean venv, in its own ``AIRFLOW_HOME``, on ``dags_folder``.

    The base class's helpers (``migrate``, ``dags_test``, ``dag_runs``) run this venv's ``airflow``.
    """

    def __init__(
        self, venv: CleanVenv, home: Path, dags_folder: Path, conn_env: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(home, conn_env or {}, AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder))
        self.venv = venv
        airflow_settings = {key: value for key, value in self.env.items() if key.startswith("AIRFLOW")}
        self.env = venv.env(PYTHONUNBUFFERED="1", **airflow_settings)

    def run(self, *args: str, timeout: float = 180.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.venv.run("airflow", *args, env=self.env, timeout=timeout, check=check)


def json_line(output: str) -> Any:
    """The JSON document a CLI printed as its last ``[``/``{`` line (warnings may come before it)."""
    lines = [line for line in output.splitlines() if line.startswith(("[", "{"))]
    assert lines, f"no JSON in the output:\n{output[-3000:]}"
    return json.loads(lines[-1])


def exported_variables(exports: str) -> dict[str, str]:
    """``{NAME: value}`` of the ``export NAME='value'`` lines ``aep-emulator env`` prints."""
    variables: dict[str, str] = {}
    for line in exports.splitlines():
        keyword, assignment = shlex.split(line)
        assert keyword == "export", line
        name, _, value = assignment.partition("=")
        variables[name] = value
    return variables


class ServedEmulator:
    """``aep-emulator serve`` started from a clean venv's console script, on a free loopback port."""

    def __init__(self, venv: CleanVenv, run_duration_seconds: float) -> None:
        self.venv = venv
        self.url = f"http://127.0.0.1:{free_port()}"
        self.run_duration_seconds = run_duration_seconds
        self.log_path = venv.workdir / "aep-emulator.log"

    @contextmanager
    def serving(self, timeout: float = 30.0) -> Iterator[ServedEmulator]:
        """Start it, wait until ``/__emulator__/health`` answers, stop it on the way out."""
        port = self.url.rsplit(":", 1)[1]
        duration = str(self.run_duration_seconds)
        command = [str(self.venv.bin / "aep-emulator"), "serve", "--port", port, "--run-duration", duration]
        with self.log_path.open("wb") as log:
            process = subprocess.Popen(
                command, env=self.venv.env(), cwd=self.venv.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_healthy(process, timeout)
            yield self
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def _wait_until_healthy(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"aep-emulator serve exited {process.returncode}: {self.log_text()}")
            try:
                if httpx.get(f"{self.url}/__emulator__/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"aep-emulator serve did not answer within {timeout:.0f} s: {self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def conn_env(self) -> dict[str, str]:
        """The ``AIRFLOW_CONN_*`` variables, as ``aep-emulator env --url <url>`` prints them."""
        return exported_variables(self.venv.run("aep-emulator", "env", "--url", self.url).stdout)

    def state(self) -> dict[str, Any]:
        """Every resource it holds (``GET /__emulator__/state``), by sandbox then kind."""
        response = httpx.get(f"{self.url}/__emulator__/state", timeout=10.0)
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state
