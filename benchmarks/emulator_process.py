"""``aep-emulator serve`` in a process of its own, for the benchmarks.

A benchmark measures its own process: the emulator must not share its GIL, CPU time or memory. So
it runs as a subprocess in its own process group (a new session) on a free loopback port, with the
given settings on its command line, and is stopped with the whole group whatever happens::

    settings = EmulatorSettings(host=HOST, port=free_port())
    with running_emulator(settings) as emulator:
        httpx.get(emulator.url + "/__emulator__/health")

``AEP_EMULATOR_RECORD`` is left out of its environment: a benchmark's thousands of requests must not
go to a recording file (the contract tests set it for the emulators they start).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

from aep_emulator.recording import RECORD_ENV
from aep_emulator.settings import EmulatorSettings
from aep_emulator.testing import ADMIN_PREFIX

HOST = "127.0.0.1"
HEALTHY_WITHIN_SECONDS = 30.0
STOP_WITHIN_SECONDS = 10.0


@dataclass(frozen=True)
class EmulatorProcess:
    """A running ``aep-emulator serve``: its process and its base URL."""

    process: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port(host: str = HOST) -> int:
    """A port on ``host`` nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve_command(settings: EmulatorSettings) -> list[str]:
    """The ``aep-emulator serve`` command line for ``settings`` (address, run duration, credentials)."""
    command = [sys.executable, "-m", "aep_emulator", "serve"]
    command += ["--host", settings.host, "--port", str(settings.port)]
    command += ["--run-duration", str(settings.run_duration_seconds)]
    command += ["--client-id", settings.client_id, "--client-secret", settings.client_secret]
    command += ["--org", settings.org_id]
    return command


def wait_healthy(emulator: EmulatorProcess, timeout: float = HEALTHY_WITHIN_SECONDS) -> None:
    """Return once ``GET /__emulator__/health`` answers 200; raise if the process ends or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=emulator.url + ADMIN_PREFIX, timeout=5.0) as admin:
        while time.monotonic() < deadline and emulator.process.poll() is None:
            try:
                if admin.get("/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the emulator did not become healthy (exit status {emulator.process.poll()})")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there ``STOP_WITHIN_SECONDS`` later."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_WITHIN_SECONDS)


@contextmanager
def running_emulator(
    settings: EmulatorSettings, stderr: IO[bytes] | None = None
) -> Iterator[EmulatorProcess]:
    """``aep-emulator serve`` with ``settings``, healthy, for the ``with`` block; stopped after it.

    :param settings: host, port, run duration, client id and secret, org (the rest of the emulator's
        settings come from its ``AEP_EMULATOR_*`` environment, as for any ``serve``).
    :param stderr: a file for the emulator's log (to show when something fails); discarded by default.
    """
    env = {key: value for key, value in os.environ.items() if key != RECORD_ENV}
    process = subprocess.Popen(
        serve_command(settings),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        start_new_session=True,
    )
    try:
        emulator = EmulatorProcess(process, f"http://{settings.host}:{settings.port}")
        wait_healthy(emulator)
        yield emulator
    finally:
        stop(process)
