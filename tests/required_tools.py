"""``@pytest.mark.needs_tool(present, what)``: skip a test whose system tool is missing, except in CI.

Outside CI a missing tool (Chromium, redis-server) skips the test with a reason saying what to install.
With ``CI=true`` in the environment the same test fails instead: CI (``bash .ci/run``) installs every
tool, so a missing one is a broken CI image, never a silent skip. ``tests/conftest.py`` loads this
plugin.
"""

from __future__ import annotations

import os

import pytest


def running_in_ci() -> bool:
    """Whether ``CI`` is set to a true value (``true``/``1``/``yes``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_tool(present, what): skip when the system tool `what` is missing; fail instead when CI=true",
    )


def _missing_tools(item: pytest.Item) -> list[str]:
    return [mark.args[1] for mark in item.iter_markers("needs_tool") if not mark.args[0]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if running_in_ci():
        return
    for item in items:
        for what in _missing_tools(item):
            item.add_marker(pytest.mark.skip(reason=f"needs {what} (not installed; with CI=true this fails)"))


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = _missing_tools(item) if running_in_ci() else []
    if missing:
        pytest.fail(f"CI=true but {', '.join(missing)} is missing: .ci/run must install it", pytrace=False)
