"""Both distributions, as a user and a maintainer meet them: built, checked, installed into clean venvs.

One module fixture builds the provider's and the emulator's wheel and sdist with ``uv build`` (what
``make dist`` runs), with build isolation: hatchling is resolved from the index into a throwaway build
environment, exactly as a release build or a ``pip install`` of the sdist does, so the ``[build-system]``
tables are tested too. With uv's cache warm that costs about 1.5 s for both projects, so
``--no-build-isolation`` (and hatchling in the dev venv) would buy nothing.

Then:

* metadata: ``twine check --strict`` (what PyPI would reject) on all four files, and the core metadata
  a user sees on PyPI and in ``pip show``: names, versions, Python, license, README, dependencies and
  extras, entry points;
* contents: the provider wheel is ``airflow_provider_aep/`` and nothing else (no emulator, no tests),
  the emulator wheel is ``aep_emulator/``; the provider sdist carries the example DAGs, not ``emulator/``;
* a clean venv with only the provider wheel (uv resolves Airflow from its cache or PyPI: 8-11 s
  warm): every provider module imports, ``aep_emulator`` is absent, ``airflow providers list`` shows
  the provider, and Airflow parses every example DAG there;
* a clean venv with both wheels (the provider's ``test`` extra satisfied by the emulator wheel): the
  entry points load, and ``aep_payments_batch`` runs green in ``airflow dags test`` against
  ``aep-emulator serve`` started from that venv.

About 1 min (55-90 s) on the 2-core development machine. uv and twine come with ``make install``; a
missing one fails these tests, it never skips them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.e2e.harness import EXAMPLE_DAG_IDS, epoch
from tests.packaging.clean_venv import CleanVenv, CleanVenvAirflow, ServedEmulator, json_line
from tests.packaging.distributions import (
    EMULATOR_ROOT,
    REPO_ROOT,
    UV,
    VENV_BIN,
    Artifacts,
    build_artifacts,
    project_table,
    run_checked,
    sdist_files,
    source_files,
    wheel_entry_points,
    wheel_files,
    wheel_metadata,
)

pytestmark = [pytest.mark.slow, pytest.mark.packaging]

PROVIDER_PACKAGE = REPO_ROOT / "airflow_provider_aep"
EMULATOR_PACKAGE = EMULATOR_ROOT / "aep_emulator"
#: Files hatchling adds to every sdist besides the configured ones.
SDIST_BASICS = {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE", ".gitignore"}
#: What the wheel's ``*.dist-info/`` holds: no stray file, the license text included.
DIST_INFO = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE"}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    assert UV.is_file(), f"{UV} is missing: make install puts uv into ./.venv"
    return build_artifacts(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def dags_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``example_dags/`` outside the repository, as a user's DAGs folder would be."""
    folder = tmp_path_factory.mktemp("dags") / "dags"
    shutil.copytree(REPO_ROOT / "example_dags", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def provider_only(artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> CleanVenv:
    """A clean venv with the provider wheel and what it requires, nothing else."""
    return CleanVenv.create(
        tmp_path_factory.mktemp("provider-only") / "venv", [str(artifacts.provider_wheel)]
    )


@pytest.fixture(scope="module")
def provider_and_emulator(artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> CleanVenv:
    """A clean venv with ``airflow-provider-aep[test]``, its ``aep-emulator`` being the built wheel."""
    requirements = [f"{artifacts.provider_wheel}[test]", str(artifacts.emulator_wheel)]
    return CleanVenv.create(tmp_path_factory.mktemp("with-emulator") / "venv", requirements)


def dist_info(wheel: Path) -> str:
    """The wheel's ``name-version.dist-info/`` directory."""
    name, version = wheel.name.split("-")[:2]
    return f"{name}-{version}.dist-info/"


def requirement_names(requirements: list[Requirement], extra: str | None = None) -> set[str]:
    """The distributions required without an extra, or with ``extra``."""
    if extra is None:
        return {req.name for req in requirements if req.marker is None}
    return {
        req.name for req in requirements if req.marker is not None and req.marker.evaluate({"extra": extra})
    }


def declared_entry_points(project_root: Path) -> dict[str, dict[str, str]]:
    """The entry points ``pyproject.toml`` declares, grouped as the wheel's ``entry_points.txt`` is."""
    project = project_table(project_root)
    groups: dict[str, dict[str, str]] = dict(project.get("entry-points", {}))
    if "scripts" in project:
        groups["console_scripts"] = project["scripts"]
    return groups


# --- metadata ---------------------------------------------------------------------------------------


def test_twine_check_strict_passes_on_every_artifact(artifacts: Artifacts) -> None:
    twine = VENV_BIN / "twine"
    assert twine.is_file(), f"{twine} is missing: the dev extra installs twine"
    result = run_checked([str(twine), "--no-color", "check", "--strict", *map(str, artifacts.all())], 120)
    assert result.stdout.count("PASSED") == 4, result.stdout


def test_provider_metadata_says_what_a_user_needs(artifacts: Artifacts) -> None:
    meta = wheel_metadata(artifacts.provider_wheel)
    project = project_table(REPO_ROOT)
    assert meta["Name"] == "airflow-provider-aep"
    assert meta["Version"] == project["version"]
    assert meta["Requires-Python"] == project["requires-python"] == ">=3.10"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert str(meta.get_payload()).strip() == (REPO_ROOT / "README.md").read_text().strip()

    requirements = [Requirement(line) for line in meta.get_all("Requires-Dist") or []]
    assert requirement_names(requirements) == {"apache-airflow", "httpx", "pydantic"}
    assert {"emulator", "test", "openlineage", "docs"} <= set(meta.get_all("Provides-Extra") or [])
    assert "aep-emulator" in requirement_names(requirements, "emulator")
    assert {"aep-emulator", "pytest"} <= requirement_names(requirements, "test")
    assert "apache-airflow-providers-openlineage" in requirement_names(requirements, "openlineage")
    assert "mkdocs" in requirement_names(requirements, "docs")


def test_emulator_metadata_needs_no_airflow(artifacts: Artifacts) -> None:
    meta = wheel_metadata(artifacts.emulator_wheel)
    project = project_table(EMULATOR_ROOT)
    assert meta["Name"] == "aep-emulator"
    assert meta["Version"] == project["version"]
    assert meta["Requires-Python"] == project["requires-python"]
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert str(meta.get_payload()).strip() == (EMULATOR_ROOT / "README.md").read_text().strip()

    requirements = [Requirement(line) for line in meta.get_all("Requires-Dist") or []]
    declared = {Requirement(line).name for line in project["dependencies"]}
    assert requirement_names(requirements) == declared
    assert not any(req.name.startswith("apache-airflow") for req in requirements)


def test_entry_points_are_those_declared(artifacts: Artifacts) -> None:
    provider = wheel_entry_points(artifacts.provider_wheel)
    emulator = wheel_entry_points(artifacts.emulator_wheel)
    assert provider == declared_entry_points(REPO_ROOT)
    assert emulator == declared_entry_points(EMULATOR_ROOT)
    # Airflow finds the provider through this one; users run the emulator through that one.
    assert provider["apache_airflow_provider"] == {"provider_info": "airflow_provider_aep:get_provider_info"}
    assert emulator["console_scripts"] == {"aep-emulator": "aep_emulator.cli:main"}


# --- contents ---------------------------------------------------------------------------------------


def test_provider_wheel_is_the_provider_package_only(artifacts: Artifacts) -> None:
    files = wheel_files(artifacts.provider_wheel)
    meta_dir = dist_info(artifacts.provider_wheel)
    package = {name for name in files if not name.startswith(meta_dir)}
    assert not [name for name in files if "aep_emulator" in name or name.startswith(("emulator/", "tests/"))]
    assert "airflow_provider_aep/py.typed" in package
    assert package == source_files(PROVIDER_PACKAGE)
    assert {name.removeprefix(meta_dir) for name in files if name.startswith(meta_dir)} == DIST_INFO


def test_emulator_wheel_is_the_emulator_package_only(artifacts: Artifacts) -> None:
    files = wheel_files(artifacts.emulator_wheel)
    meta_dir = dist_info(artifacts.emulator_wheel)
    package = {name for name in files if not name.startswith(meta_dir)}
    assert "aep_emulator/py.typed" in package
    assert package == source_files(EMULATOR_PACKAGE)
    assert {name.removeprefix(meta_dir) for name in files if name.startswith(meta_dir)} == DIST_INFO


def test_provider_sdist_carries_the_example_dags_not_the_emulator(artifacts: Artifacts) -> None:
    files = set(sdist_files(artifacts.provider_sdist))
    example_dags = source_files(REPO_ROOT / "example_dags")
    assert {"example_dags/aep_payments_batch.py", "example_dags/_common.py"} <= example_dags
    assert not [name for name in files if name.startswith(("emulator/", "tests/", "docs/"))]
    assert files == SDIST_BASICS | source_files(PROVIDER_PACKAGE) | example_dags


def test_emulator_sdist_is_its_package_and_readme(artifacts: Artifacts) -> None:
    files = set(sdist_files(artifacts.emulator_sdist))
    assert files == SDIST_BASICS | source_files(EMULATOR_PACKAGE)


# --- the provider wheel alone -----------------------------------------------------------------------

IMPORT_EVERY_MODULE = """
import importlib, importlib.util, json, pkgutil
import airflow_provider_aep
names = [m.name for m in pkgutil.walk_packages(airflow_provider_aep.__path__, "airflow_provider_aep.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "file": airflow_provider_aep.__file__,
    "modules": len(names),
    "emulator_importable": importlib.util.find_spec("aep_emulator") is not None,
    "package_name": airflow_provider_aep.get_provider_info()["package-name"],
}))
"""


def test_every_provider_module_imports_without_the_emulator(provider_only: CleanVenv) -> None:
    found = json.loads(provider_only.python(IMPORT_EVERY_MODULE))
    assert Path(found["file"]).is_relative_to(provider_only.path), "imported the repository, not the wheel"
    assert found["emulator_importable"] is False
    assert found["modules"] >= 30
    assert found["package_name"] == "airflow-provider-aep"


def test_airflow_lists_the_installed_provider(provider_only: CleanVenv, tmp_path: Path) -> None:
    airflow = CleanVenvAirflow(provider_only, tmp_path / "airflow-home", tmp_path)
    providers = json_line(airflow.run("providers", "list", "--output", "json").stdout)
    versions = {provider["package_name"]: provider["version"] for provider in providers}
    assert versions.get("airflow-provider-aep") == project_table(REPO_ROOT)["version"], versions


def test_every_example_dag_parses_without_the_emulator(
    provider_only: CleanVenv, dags_folder: Path, tmp_path: Path
) -> None:
    """``airflow dags ... --local -B dags-folder``: the dag processor's parse of the files (the bundle's
    folder on ``sys.path``, so ``_common`` imports), not what a database holds."""
    airflow = CleanVenvAirflow(provider_only, tmp_path / "airflow-home", dags_folder)
    airflow.migrate()
    local = ("--local", "-B", "dags-folder", "-o", "json")
    errors = json_line(airflow.run("dags", "list-import-errors", *local).stdout)
    assert errors == [], errors
    listed = json_line(airflow.run("dags", "list", "--columns", "dag_id", *local).stdout)
    assert {dag["dag_id"] for dag in listed} == set(EXAMPLE_DAG_IDS)


# --- both wheels ------------------------------------------------------------------------------------

LOAD_ENTRY_POINTS = """
import importlib.metadata, json
loaded = {}
for dist in ("airflow-provider-aep", "aep-emulator"):
    for entry_point in importlib.metadata.distribution(dist).entry_points:
        entry_point.load()
        loaded.setdefault(entry_point.group, []).append(entry_point.name)
print(json.dumps(loaded))
"""


def test_every_entry_point_loads(provider_and_emulator: CleanVenv, artifacts: Artifacts) -> None:
    loaded = json.loads(provider_and_emulator.python(LOAD_ENTRY_POINTS))
    expected: dict[str, list[str]] = {}
    for wheel in (artifacts.provider_wheel, artifacts.emulator_wheel):
        for group, entry_points in wheel_entry_points(wheel).items():
            expected.setdefault(group, []).extend(entry_points)
    assert {group: sorted(names) for group, names in loaded.items()} == {
        group: sorted(names) for group, names in expected.items()
    }


@pytest.fixture
def served_emulator(provider_and_emulator: CleanVenv) -> Iterator[ServedEmulator]:
    """``aep-emulator serve`` from the clean venv; a flow run takes 1 emulated second."""
    with ServedEmulator(provider_and_emulator, run_duration_seconds=1.0).serving() as emulator:
        yield emulator


def test_an_example_dag_runs_from_the_wheels(
    provider_and_emulator: CleanVenv, served_emulator: ServedEmulator, dags_folder: Path, tmp_path: Path
) -> None:
    """``aep_payments_batch``: the whole tutorial (account, schema, dataset, mapping, dataflow), one flow
    run over the DAG run's data interval, and the wait for it."""
    airflow = CleanVenvAirflow(
        provider_and_emulator, tmp_path / "airflow-home", dags_folder, served_emulator.conn_env()
    )
    airflow.migrate()
    result = airflow.dags_test("aep_payments_batch", (date.today() - timedelta(days=3)).isoformat())
    [dag_run] = airflow.dag_runs("aep_payments_batch")
    assert dag_run["state"] == "success", result.stdout[-3000:]

    state = served_emulator.state()["prod"]
    [flow] = state["flows"]
    [run] = [run for run in state["runs"] if run["runKind"] == "onDemand"]
    window = (int(run["params"]["windowStartTime"]), int(run["params"]["windowEndTime"]))
    assert window == (epoch(dag_run["data_interval_start"]), epoch(dag_run["data_interval_end"]))
    assert run["flowId"] == flow["id"]
