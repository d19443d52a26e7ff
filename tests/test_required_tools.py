"""A missing system tool skips its test on a developer machine and fails it in CI (``CI=true``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.required_tools import running_in_ci

REPO = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest

@pytest.mark.needs_tool(False, "the frobnicator")
def test_needs_a_missing_tool():
    pass

@pytest.mark.needs_tool(True, "the present tool")
def test_needs_a_present_tool():
    pass
"""


def _run_sample(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(PYTHONPATH=str(REPO), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-p", "tests.required_tools", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_missing_tool_skips_outside_ci(tmp_path: Path) -> None:
    result = _run_sample(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "needs the frobnicator" in result.stdout


def test_a_missing_tool_fails_in_ci(tmp_path: Path) -> None:
    result = _run_sample(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout  # a failure while setting the test up
    assert "CI=true but the frobnicator is missing" in result.stdout


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("", False), ("false", False)])
def test_ci_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert running_in_ci() is expected
