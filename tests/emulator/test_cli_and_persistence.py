"""``aep-emulator env`` / ``serve`` and ``--state FILE`` persistence across restarts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from aep_emulator.settings import EmulatorSettings
from aep_emulator.testing import RunningEmulator

from .platform import FLOW, PlatformClient


def _run_cli(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "aep_emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return result.stdout


def test_env_prints_airflow_connections(tmp_path: Path) -> None:
    output = _run_cli("env", "--url", "http://127.0.0.1:9999")
    script = tmp_path / "env.sh"
    script.write_text(output + '\nprintf "%s" "$AIRFLOW_CONN_AEP_DEFAULT"\n')
    aep = json.loads(subprocess.run(["sh", str(script)], capture_output=True, text=True, check=True).stdout)
    assert aep == {
        "conn_type": "aep",
        "login": "aep-emulator",
        "password": "aep-emulator-secret",
        "host": "http://127.0.0.1:9999",
        "extra": {"org_id": "EMULATOR@AdobeOrg", "sandbox": "prod", "ims_url": "http://127.0.0.1:9999"},
    }
    assert "export AIRFLOW_CONN_PAYPAL_DEFAULT=" in output
    assert "export AIRFLOW_CONN_SFMC_DEFAULT=" in output


def test_env_variables_configure_the_settings() -> None:
    output = _run_cli("env", env={"AEP_EMULATOR_PORT": "7777", "AEP_EMULATOR_CLIENT_ID": "ci-client"})
    assert "http://127.0.0.1:7777" in output
    assert "ci-client" in output
    settings = EmulatorSettings.from_env(
        {"AEP_EMULATOR_RUN_DURATION_SECONDS": "2.5", "AEP_EMULATOR_STATE": "/tmp/s.json"}
    )
    assert settings.run_duration_seconds == 2.5
    assert settings.state_file == "/tmp/s.json"


def test_conn_env_matches_the_running_emulator(emulator: RunningEmulator) -> None:
    values = emulator.conn_env(sandbox="dev")
    aep = json.loads(values["AIRFLOW_CONN_AEP_DEFAULT"])
    assert aep["host"] == emulator.url
    assert aep["extra"]["sandbox"] == "dev"
    sfmc = json.loads(values["AIRFLOW_CONN_SFMC_DEFAULT"])
    assert sfmc["host"] == f"{sfmc['extra']['subdomain']}.auth.marketingcloudapis.com"


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "aep-state.json"
    with RunningEmulator(state_file=str(state)) as first, PlatformClient(first) as aep:
        setup = aep.batch_setup()
        flow_id = aep.once_flow(setup)
        first.advance_clock(120)
    with RunningEmulator(state_file=str(state)) as second, PlatformClient(second) as aep:
        assert aep.item(f"{FLOW}/flows/{flow_id}")["name"] == "Dataflow between payments Platform"
        assert second.health()["now"] > time.time() + 100
        second.reset()
    assert json.loads(state.read_text())["sandboxes"]["prod"]["flows"] == {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_command_answers_ims_and_platform(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aep_emulator",
            "serve",
            "--port",
            str(port),
            "--client-secret",
            "s3",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/__emulator__/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        form = {"grant_type": "client_credentials", "client_id": "aep-emulator", "client_secret": "s3"}
        token = httpx.post(url + "/ims/token/v3", data=form, timeout=5).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": "aep-emulator",
            "x-gw-ims-org-id": "EMULATOR@AdobeOrg",
            "x-sandbox-name": "prod",
        }
        assert httpx.get(url + f"{FLOW}/flowSpecs", headers=headers, timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
