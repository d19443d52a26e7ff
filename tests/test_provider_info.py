"""Airflow discovers the provider, its ``aep`` connection type and the connection form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_aep import get_provider_info


def test_provider_info_matches_airflow_schema() -> None:
    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))
    assert get_provider_info()["package-name"] == "airflow-provider-aep"


def test_providers_manager_serves_the_aep_connection_form() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()  # type: ignore[no-untyped-call]
    assert "airflow-provider-aep" in manager.providers
    widgets = manager.connection_form_widgets
    for field in ("org_id", "sandbox", "scopes", "ims_url"):
        assert f"extra__aep__{field}" in widgets, field
    assert widgets["extra__aep__sandbox"].field["value"] == "prod"
    assert widgets["extra__aep__ims_url"].field["value"] == "https://ims-na1.adobelogin.com"
    behaviour = manager.field_behaviours["aep"]
    assert set(behaviour["hidden_fields"]) == {"schema", "port"}
    assert behaviour["relabeling"]["login"] == "Client ID (API key)"
    hook = manager.hooks["aep"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_aep.hooks.aep.AEPHook"


def test_airflow_cli_lists_the_provider() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    names = {p["package_name"] for p in json.loads(out.stdout)}
    assert "airflow-provider-aep" in names
