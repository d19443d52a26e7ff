"""Fixtures for the emulator's own tests: an authenticated Platform client and ready-made resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aep_emulator.testing import RunningEmulator

from .platform import PlatformClient


@pytest.fixture
def aep(emulator: RunningEmulator) -> Iterator[PlatformClient]:
    """A client with a fresh IMS token and the four Platform headers, on a reset emulator."""
    with PlatformClient(emulator) as client:
        yield client


@pytest.fixture
def batch_setup(aep: PlatformClient) -> dict[str, Any]:
    """PayPal base + source connection, schema, dataset, target connection and mapping set."""
    return aep.batch_setup()


@pytest.fixture
def raw_http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A bare client without any Adobe header, for gateway tests."""
    with httpx.Client(base_url=emulator.url, timeout=10.0) as client:
        yield client
