"""Shared fixtures: one offline AEP emulator per test session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aep_emulator.testing import RunningEmulator
from tests.contract.plugin import RequestContractPlugin


def pytest_configure(config: pytest.Config) -> None:
    # needs_tool: a missing Chromium or redis-server skips locally and fails in CI.
    config.pluginmanager.import_plugin("tests.required_tools")
    # Every request sent to an emulator is recorded; the provider's are checked against Adobe's specs
    # when the session ends (tests/contract, README "Request contract").
    config.pluginmanager.register(RequestContractPlugin(), "aep-request-contract")


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[RunningEmulator]:
    """One emulator for the whole session; runs take 1 emulated second so tests stay fast."""
    with RunningEmulator(run_duration_seconds=1.0) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: RunningEmulator) -> RunningEmulator:
    """The session emulator, reset to a clean state (no resources, faults, clock offset or config)."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def aep_env(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """A clean emulator whose ``AIRFLOW_CONN_*`` variables are set, so ``aep_default`` resolves to it."""
    for name, value in emulator.conn_env().items():
        monkeypatch.setenv(name, value)
    return emulator
