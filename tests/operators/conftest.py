"""Operator test fixtures: the emulator's Airflow connections plus the Salesforce Marketing Cloud
accounts of seed 003 (one per platform), with the seed's own values."""

from __future__ import annotations

import json

import pytest

from aep_emulator.testing import RunningEmulator

SFMC_AZURE = {
    "conn_type": "generic",
    "login": "acme-salesforce-marketing-cloud",
    "password": "xxxx",
    "host": "acme-ab12c3d4e5fg6hijk7lmnop8qrst",
}
SFMC_AWS = {
    "conn_type": "generic",
    "login": "3a1b2c3d4e5f67890123456789abcdef",
    "password": "xxxx",
    "extra": {"subdomain": "mc563885gzs27c5t9-63k636ttgm"},
}


@pytest.fixture
def aep(aep_env: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """A clean emulator, ``aep_default``/``paypal_default``/``sfmc_default`` and the seed 003 accounts."""
    monkeypatch.setenv("AIRFLOW_CONN_SFMC_AZURE", json.dumps(SFMC_AZURE))
    monkeypatch.setenv("AIRFLOW_CONN_SFMC_AWS", json.dumps(SFMC_AWS))
    return aep_env
