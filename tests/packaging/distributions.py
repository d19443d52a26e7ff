"""Build the two distributions with ``uv build`` and read what is inside them: file lists, metadata,
entry points.

``uv build <project>`` builds the sdist, then the wheel *from that sdist* (as PyPI users and downstream
packagers would), so a file the sdist forgets is missing from the wheel too and the tests notice.
"""

from __future__ import annotations

import configparser
import email.message
import email.parser
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
EMULATOR_ROOT = REPO_ROOT / "emulator"
VENV_BIN = Path(sys.executable).parent
#: uv, installed into ./.venv by ``make install``; what builds the distributions and the clean venvs.
UV = VENV_BIN / "uv"


def run_checked(args: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; a non-zero exit raises with the tail of its output."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n"
            f"--- stdout (tail)\n{result.stdout[-4000:]}\n--- stderr (tail)\n{result.stderr[-4000:]}"
        )
    return result


def project_table(project_root: Path) -> dict[str, Any]:
    """The ``[project]`` table of a ``pyproject.toml``: the source of truth the artifacts must match."""
    with (project_root / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


@dataclass(frozen=True)
class Artifacts:
    """The four files ``make dist`` produces."""

    provider_wheel: Path
    provider_sdist: Path
    emulator_wheel: Path
    emulator_sdist: Path

    def all(self) -> list[Path]:
        return [self.provider_wheel, self.provider_sdist, self.emulator_wheel, self.emulator_sdist]


def _one(out_dir: Path, pattern: str) -> Path:
    found = sorted(out_dir.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {out_dir}, found {[p.name for p in found]}"
    return found[0]


def build_artifacts(out_dir: Path) -> Artifacts:
    """``uv build`` both projects into ``out_dir`` (isolated builds: hatchling comes from the index)."""
    for project_root in (REPO_ROOT, EMULATOR_ROOT):
        run_checked([str(UV), "build", "--quiet", "--out-dir", str(out_dir), str(project_root)], timeout=300)
    provider = project_table(REPO_ROOT)["version"]
    emulator = project_table(EMULATOR_ROOT)["version"]
    return Artifacts(
        provider_wheel=_one(out_dir, f"airflow_provider_aep-{provider}-py3-none-any.whl"),
        provider_sdist=_one(out_dir, f"airflow_provider_aep-{provider}.tar.gz"),
        emulator_wheel=_one(out_dir, f"aep_emulator-{emulator}-py3-none-any.whl"),
        emulator_sdist=_one(out_dir, f"aep_emulator-{emulator}.tar.gz"),
    )


def wheel_files(wheel: Path) -> list[str]:
    """Every file in a wheel, as its archive path."""
    with zipfile.ZipFile(wheel) as archive:
        return [name for name in archive.namelist() if not name.endswith("/")]


def sdist_files(sdist: Path) -> list[str]:
    """Every file in an sdist, relative to its top directory (``name-version/``)."""
    with tarfile.open(sdist) as archive:
        return [member.name.split("/", 1)[1] for member in archive.getmembers() if member.isfile()]


def _dist_info_text(wheel: Path, file_name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [name for name in archive.namelist() if name.endswith(f".dist-info/{file_name}")]
        return archive.read(path).decode()


def wheel_metadata(wheel: Path) -> email.message.Message:
    """The wheel's ``METADATA`` (core metadata: an email-header document with the README as body)."""
    return email.parser.Parser().parsestr(_dist_info_text(wheel, "METADATA"))


def wheel_entry_points(wheel: Path) -> dict[str, dict[str, str]]:
    """The wheel's ``entry_points.txt``: group -> name -> ``module:attribute``."""
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
    parser.read_string(_dist_info_text(wheel, "entry_points.txt"))
    return {group: dict(parser[group]) for group in parser.sections()}


def source_files(package_dir: Path) -> set[str]:
    """The files of a source package as a wheel would name them (``pkg/sub/mod.py``), caches left out."""
    return {
        path.relative_to(package_dir.parent).as_posix()
        for path in package_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
