"""The emulator's pytest plugin: a running AEP and the Airflow connections to it, for your DAG tests.

Installed with ``aep-emulator`` (``pip install "airflow-provider-aep[test]"``) and loaded by pytest on its
own (the ``pytest11`` entry point ``aep_emulator``; ``-p no:aep_emulator`` turns it off). Fixtures:

* ``aep_emulator``: the session's emulator, reset to a clean state before the test, with the
  ``AIRFLOW_CONN_AEP_DEFAULT``, ``AIRFLOW_CONN_PAYPAL_DEFAULT`` and ``AIRFLOW_CONN_SFMC_DEFAULT``
  variables set for the test, so ``aep_default`` resolves to it. One fixture, both things.
* ``aep_airflow``: runs your DAGs end to end against it, ``aep_airflow.run("my_dag", "2025-06-01")``
  (``airflow dags test`` in a subprocess, :mod:`aep_emulator.airflow_testing`).
* ``aep_emulator_session`` and ``aep_airflow_home``: the session-wide emulator (not reset) and Airflow
  home behind them.

Settings, each an ini option (``pytest.ini``, ``[tool.pytest.ini_options]``) or the command-line flag of
the same name with dashes (``--aep-emulator-run-duration 0``), the flag winning; paths are relative to
the rootdir:

* ``aep_emulator_run_duration`` (``1``): emulated seconds a flow run stays in progress; ``0`` ends a run
  the moment it starts, so a sensor's first look sees its outcome;
* ``aep_emulator_sandbox`` (``prod``): the sandbox ``aep_default`` sends (``prod`` or ``dev``);
* ``aep_emulator_state_file`` (none): a JSON file the emulator keeps its state in, for a look after a
  failing session;
* ``aep_dags_folder`` (``dags``): the folder (or one file) of your DAGs;
* ``aep_airflow_home`` (a temporary folder): the ``AIRFLOW_HOME`` of ``aep_airflow``, kept when set.

The plugin imports nothing from Airflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aep_emulator.airflow_testing import AirflowDagTester
from aep_emulator.testing import RunningEmulator

#: name -> (default, help) of the plugin's settings; each is an ini option and a ``--flag``.
SETTINGS: dict[str, tuple[str, str]] = {
    "aep_emulator_run_duration": ("1", "emulated seconds an AEP flow run stays in progress (default 1)"),
    "aep_emulator_sandbox": ("prod", "the sandbox the aep_default connection sends (default prod)"),
    "aep_emulator_state_file": ("", "JSON file the emulator writes its state to (relative to rootdir)"),
    "aep_dags_folder": ("dags", "your DAGs folder or file, relative to rootdir (default dags)"),
    "aep_airflow_home": ("", "AIRFLOW_HOME of aep_airflow, relative to rootdir (default: a temp dir)"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the settings, each as an ini option and a command-line flag."""
    group = parser.getgroup("aep_emulator", "AEP emulator (aep-emulator)")
    for name, (default, help_text) in SETTINGS.items():
        parser.addini(name, help_text, default=default)
        group.addoption("--" + name.replace("_", "-"), dest=name, default=None, help=help_text)


def setting(config: pytest.Config, name: str) -> str:
    """One setting: its command-line flag when given, else its ini option, else its default."""
    given = config.getoption(name, default=None)
    value = given if given is not None else config.getini(name)
    return str(value).strip()


def _path(config: pytest.Config, name: str) -> Path | None:
    value = setting(config, name)
    return (config.rootpath / value).resolve() if value else None


def _run_duration(config: pytest.Config) -> float:
    raw = setting(config, "aep_emulator_run_duration")
    try:
        seconds = float(raw)
    except ValueError:
        message = f"aep_emulator_run_duration: must be a number of seconds, got {raw!r}"
        raise pytest.UsageError(message) from None
    if seconds < 0:
        raise pytest.UsageError(f"aep_emulator_run_duration: must not be negative, got {raw!r}")
    return seconds


@pytest.fixture(scope="session")
def aep_emulator_session(pytestconfig: pytest.Config) -> Iterator[RunningEmulator]:
    """The session's emulator, started on a free loopback port when a test first needs it and stopped
    at the end; never reset by itself (``aep_emulator`` resets it for each test)."""
    state_file = _path(pytestconfig, "aep_emulator_state_file")
    with RunningEmulator(
        run_duration_seconds=_run_duration(pytestconfig),
        state_file=None if state_file is None else str(state_file),
    ) as emulator:
        yield emulator


@pytest.fixture
def aep_emulator(
    aep_emulator_session: RunningEmulator, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> RunningEmulator:
    """A running AEP emulator, reset to a clean state (no resources, faults, logged requests, clock
    offset or config change), whose ``AIRFLOW_CONN_*`` variables are set for this test, so the
    ``aep_default``, ``paypal_default`` and ``sfmc_default`` Airflow connections resolve to it.

    Its helpers (:class:`~aep_emulator.testing.RunningEmulator`) move the clock (``advance_clock``,
    ``advance_clock_to``), force outcomes (``set_run_outcome``, ``set_flow_outcome``), inject faults
    (``add_faults``), switch documented answer variants (``configure``) and show what AEP holds
    (``dataflows``, ``runs``, ``datasets``, ``batches``, ``state``, ``requests``).
    """
    aep_emulator_session.reset()
    sandbox = setting(pytestconfig, "aep_emulator_sandbox")
    for name, value in aep_emulator_session.conn_env(sandbox=sandbox).items():
        monkeypatch.setenv(name, value)
    return aep_emulator_session


@pytest.fixture(scope="session")
def aep_airflow_home(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``AIRFLOW_HOME`` of ``aep_airflow`` for the whole session (its database is migrated once):
    the ``aep_airflow_home`` setting, or a fresh temporary folder."""
    return _path(pytestconfig, "aep_airflow_home") or tmp_path_factory.mktemp("aep-airflow-home")


@pytest.fixture
def aep_airflow(
    aep_emulator: RunningEmulator, aep_airflow_home: Path, pytestconfig: pytest.Config
) -> AirflowDagTester:
    """Runs your DAGs (the ``aep_dags_folder`` setting, ``dags`` by default) end to end against the
    reset ``aep_emulator``: ``result = aep_airflow.run("my_dag", "2025-06-01", conf={...})`` is one
    ``airflow dags test`` and returns a :class:`~aep_emulator.airflow_testing.DagTestResult` (DAG run
    state, task states, XComs, output)."""
    dags = _path(pytestconfig, "aep_dags_folder")
    assert dags is not None
    if not dags.exists():
        raise pytest.UsageError(f"aep_dags_folder: {dags} does not exist (set it in your pytest ini file)")
    sandbox = setting(pytestconfig, "aep_emulator_sandbox")
    return AirflowDagTester(aep_airflow_home, dags, aep_emulator.conn_env(sandbox=sandbox))
