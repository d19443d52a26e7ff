"""Fixtures of the asset and lineage tests: the flow-run tests' emulator, hook and PayPal dataflow."""

from __future__ import annotations

from tests.flow_runs.conftest import aep, hook, make_flow

__all__ = ["aep", "hook", "make_flow"]
