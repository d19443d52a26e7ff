"""Shared fixtures: one offline AEP emulator per test session, reset before each test that uses it.

The emulator is the one the ``aep_emulator`` pytest plugin starts (``aep_emulator_session``), so this
suite runs on the plugin users run their DAG tests with; its fixture names (``aep_emulator``,
``aep_airflow``...) and ours (``emulator_server``, ``emulator``, ``aep_env``) do not overlap.
"""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from tests.contract.plugin import RequestContractPlugin


def pytest_configure(config: pytest.Config) -> None:
    # needs_tool: a missing Chromium or redis-server skips locally and fails in CI.
    config.pluginmanager.import_plugin("tests.required_tools")
    # Every request sent to an emulator is recorded; the provider's are checked against Adobe's specs
    # when the session ends (tests/contract, docs/emulator.md "Request contract").
    config.pluginmanager.register(RequestContractPlugin(), "aep-request-contract")


#: Modules whose tests run on the session's ``airflow standalone`` (tests/e2e/conftest.py): under xdist
#: they are one work unit, so it starts once (checked at collection: see ``pytest_collection_modifyitems``).
ON_SHARED_STANDALONE = (
    "tests/e2e/test_backfill_deferrable.py",
    "tests/e2e/test_browser_ui.py",
    "tests/e2e/test_trigger_paths.py",
)

#: Modules of independent tests on session fixtures only (each worker migrates its own Airflow home):
#: under xdist each test is a unit of its own, so their ``airflow dags test`` runs spread over the workers.
ONE_UNIT_PER_TEST = ("tests/e2e/test_example_dags_run.py",)


def work_unit(nodeid: str) -> str:
    """The pytest-xdist work unit of a test (``make test`` runs ``-n 4 --dist loadscope``): its module,
    so a module's fixtures (an Airflow stack, a migrated home) start on one worker only; the modules on
    the shared ``airflow standalone`` are one unit; the tests of :data:`ONE_UNIT_PER_TEST` one each."""
    module = nodeid.split("::", 1)[0]
    if module in ON_SHARED_STANDALONE:
        return "airflow-standalone"
    return nodeid if module in ONE_UNIT_PER_TEST else module


def start_rank(item: pytest.Item) -> int:
    """When a test's unit is handed out: the longest first (the production stack, then the shared
    standalone, then other tests that start Airflow or build wheels), so no long unit is left for last
    while the other workers idle (``make test`` passes ``--no-loadscope-reorder`` to keep this order)."""
    if item.get_closest_marker("production"):
        return 0
    if work_unit(item.nodeid) == "airflow-standalone":
        return 1
    if item.get_closest_marker("slow") or item.get_closest_marker("packaging"):
        return 2
    return 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    strays = sorted(
        {
            item.nodeid.split("::", 1)[0]
            for item in items
            if "standalone" in getattr(item, "fixturenames", ())
            and work_unit(item.nodeid) != "airflow-standalone"
        }
    )
    if strays:
        raise pytest.UsageError(f"add {', '.join(strays)} to ON_SHARED_STANDALONE in tests/conftest.py")
    items.sort(key=start_rank)  # stable: the tests of a module keep their file order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` by :func:`work_unit` (xdist's ``loadgroup`` cannot rename test ids under
    pytest 9, so it is not used)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ByWorkUnit(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


@pytest.fixture(scope="session")
def emulator_server(aep_emulator_session: RunningEmulator) -> RunningEmulator:
    """One emulator for the whole session: the ``aep_emulator`` pytest plugin's (the one users get, from
    the installed entry point), whose runs take 1 emulated second (``aep_emulator_run_duration``)."""
    return aep_emulator_session


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
