"""Fixtures of the asset and lineage tests: the flow-run tests' emulator, hook and PayPal dataflow, and
OpenLineage switched on."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_aep.openlineage_facets import openlineage_enabled
from tests.assets.asset_helpers import OL_TRANSPORT
from tests.assets.openlineage_events import use_file_transport
from tests.flow_runs.conftest import aep, hook, make_flow
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow

__all__ = ["aep", "hook", "make_flow"]


@pytest.fixture
def idle_flow(make_flow: MakeFlow) -> str:
    """A new seed 001 PayPal dataflow scheduled ``once`` far ahead: it runs only when a test starts it."""
    return make_flow(start_time=FAR_FUTURE)


@pytest.fixture
def openlineage_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transport configured: the OpenLineage provider is enabled (its config is not cached in tests)."""
    monkeypatch.setenv(OL_TRANSPORT, '{"type": "console"}')
    assert openlineage_enabled()


@pytest.fixture
def events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """OpenLineage enabled, its events written to this file."""
    path = tmp_path / "openlineage.jsonl"
    use_file_transport(path, monkeypatch)
    return path
