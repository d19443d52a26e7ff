"""The ``aep://`` asset URI scheme: the factory, Airflow's handler, the provider registration, and
what importing it costs at DAG-parse time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Asset

from airflow_provider_aep import get_provider_info
from airflow_provider_aep.assets import (
    AEPDatasetRef,
    aep_dataset_asset,
    aep_dataset_uri,
    is_aep_asset,
    sanitize_uri,
)

ORG = "0123456789ABCDEF01234567@AdobeOrg"
DATASET = "5c8c3c555033b814b69f947f"
URI = f"aep://{ORG}/prod/datasets/{DATASET}"


def test_factory_builds_the_normalised_uri_as_name_and_uri() -> None:
    asset = aep_dataset_asset(DATASET, sandbox=" Prod ", org_id="0123456789abcdef01234567@adobeorg")
    assert asset.uri == URI
    assert asset.name == URI
    assert asset.extra == {}
    assert aep_dataset_asset(DATASET, sandbox="prod", org_id=ORG, extra={"team": "payments"}).extra == {
        "team": "payments"
    }


def test_airflow_normalises_a_hand_written_uri_through_the_registered_handler() -> None:
    written = Asset(uri=f"aep://0123456789abcdef01234567@ADOBEORG/PROD/DataSets/{DATASET}/")
    assert written.uri == URI
    assert Asset(URI) == aep_dataset_asset(DATASET, sandbox="prod", org_id=ORG)


@pytest.mark.parametrize(
    ("uri", "part"),
    [
        (f"aep://0123456789ABCDEF01234567/prod/datasets/{DATASET}", "org_id"),
        (f"aep://{ORG}:443/prod/datasets/{DATASET}", "org_id"),
        (f"aep:///prod/datasets/{DATASET}", "org_id"),
        (f"aep://{ORG}/prod_1/datasets/{DATASET}", "sandbox"),
        (f"aep://{ORG}/prod/dataflows/{DATASET}", "path"),
        (f"aep://{ORG}/prod/{DATASET}", "path"),
        (f"aep://{ORG}/prod/datasets/{DATASET}/batches/1", "path"),
        (f"aep://{ORG}/prod/datasets", "path"),
        (f"aep://{ORG}/prod/datasets/{DATASET}?version=2", "query"),
        (f"aep://{ORG}/prod/datasets/5c8c%2F3c", "dataset_id"),
    ],
)
def test_a_malformed_uri_is_refused_naming_the_part(uri: str, part: str) -> None:
    with pytest.raises(ValueError, match=rf"AEP dataset asset URI .*: {part} ") as refused:
        Asset(uri=uri)
    assert "aep://<org_id>/<sandbox>/datasets/<dataset_id>" in str(refused.value)
    with pytest.raises(ValueError, match=part):
        AEPDatasetRef.parse(uri)


@pytest.mark.parametrize(
    ("kwargs", "part"),
    [
        ({"dataset_id": DATASET, "sandbox": "prod", "org_id": "no-suffix"}, "org_id"),
        ({"dataset_id": DATASET, "sandbox": "", "org_id": ORG}, "sandbox"),
        ({"dataset_id": "a/b", "sandbox": "prod", "org_id": ORG}, "dataset_id"),
        ({"dataset_id": "", "sandbox": "prod", "org_id": ORG}, "dataset_id"),
    ],
)
def test_the_factory_refuses_a_bad_part_by_name(kwargs: dict[str, str], part: str) -> None:
    with pytest.raises(ValueError, match=rf"^{part} "):
        aep_dataset_asset(kwargs["dataset_id"], sandbox=kwargs["sandbox"], org_id=kwargs["org_id"])


def test_handler_returns_the_normalised_parts() -> None:
    parts = sanitize_uri(urlsplit(f"aep://abc@adobeorg/Dev-2/DATASETS/{DATASET}"))
    assert parts.geturl() == f"aep://ABC@AdobeOrg/dev-2/datasets/{DATASET}"


def test_reference_names_the_openlineage_identity() -> None:
    ref = AEPDatasetRef.parse(URI)
    assert (ref.org_id, ref.sandbox, ref.dataset_id) == (ORG, "prod", DATASET)
    assert ref.namespace == f"aep://{ORG}/prod"
    assert ref.name == f"datasets/{DATASET}"
    assert f"{ref.namespace}/{ref.name}" == URI == aep_dataset_uri(DATASET, sandbox="prod", org_id=ORG)


def test_is_aep_asset_reads_the_scheme() -> None:
    from airflow.sdk import AssetAlias

    assert is_aep_asset(aep_dataset_asset(DATASET, sandbox="prod", org_id=ORG))
    assert is_aep_asset(Asset.ref(uri=URI))
    assert not is_aep_asset(Asset("s3://bucket/key"))
    assert not is_aep_asset(AssetAlias("aep"))


def test_provider_info_registers_the_scheme() -> None:
    [entry] = get_provider_info()["asset-uris"]
    assert entry == {
        "schemes": ["aep"],
        "handler": "airflow_provider_aep.assets.sanitize_uri",
        "factory": "airflow_provider_aep.assets.aep_dataset_asset",
        "to_openlineage_converter": "airflow_provider_aep.openlineage_facets.convert_asset_to_openlineage",
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_both_providers_managers_serve_the_handler_factory_and_converter() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    from airflow_provider_aep.openlineage_facets import convert_asset_to_openlineage

    core = ProvidersManager()  # type: ignore[no-untyped-call]
    runtime = ProvidersManagerTaskRuntime()  # type: ignore[no-untyped-call]
    for manager in (core, runtime):
        assert manager.asset_uri_handlers["aep"] is sanitize_uri
        assert manager.asset_factories["aep"] is aep_dataset_asset
        assert manager.asset_to_openlineage_converters["aep"] is convert_asset_to_openlineage


def loaded_modules(
    code: str, blocked: tuple[str, ...] = (), hidden: tuple[str, ...] = ()
) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter: ``blocked`` packages unimportable, ``hidden`` dists absent.

    ``code`` sets ``BASE`` (the modules loaded before what is measured) and ``RESULT``; the answer holds
    ``RESULT`` and the modules loaded after ``BASE``.
    """
    program = (
        textwrap.dedent(
            f"""
        import json, sys
        BLOCKED = {blocked!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Block())

        # ... and their distributions absent, as after ``pip uninstall`` (no entry point either)
        import importlib.metadata, importlib_metadata
        HIDDEN = {hidden!r}

        def hide(distributions):
            def visible(**kwargs):
                for dist in distributions(**kwargs):
                    if (dist.metadata["Name"] or "").lower() not in HIDDEN:
                        yield dist
            return visible

        importlib_metadata.distributions = hide(importlib_metadata.distributions)
        importlib.metadata.distributions = hide(importlib.metadata.distributions)
        """
        )
        + textwrap.dedent(code)
        + "\nprint(json.dumps({'modules': sorted(set(sys.modules) - BASE), 'result': RESULT}))\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    answer: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return answer


#: What a DAG file must not load through the provider: the HTTP stack, models, OpenLineage.
HEAVY = (
    "httpx",
    "pydantic",
    "openlineage",
    "airflow.providers.openlineage",
    "airflow_provider_aep.hooks",
    "airflow_provider_aep.models",
    "airflow_provider_aep.flow_runs",
)


def test_dag_files_using_assets_import_nothing_heavy() -> None:
    answer = loaded_modules(
        """
        import airflow.sdk  # itself loads httpx, pydantic and every provider's info
        BASE = set(sys.modules)
        from airflow_provider_aep.assets import aep_dataset_asset
        from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
        from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
        from airflow_provider_aep.operators import AEPCreateDatasetOperator
        RESULT = aep_dataset_asset("d1", sandbox="prod", org_id="ORG@AdobeOrg").uri
        """
    )
    assert answer["result"] == "aep://ORG@AdobeOrg/prod/datasets/d1"
    modules = answer["modules"]
    assert isinstance(modules, list)
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    # Airflow imports the scheme's converter when it builds an ``aep://`` asset: it must stay light
    assert "airflow_provider_aep.lineage" in modules


def test_the_provider_works_without_openlineage_installed() -> None:
    """Without the ``openlineage`` extra: DAG files import, assets build, lineage stays off."""
    answer = loaded_modules(
        """
        from airflow.sdk import DAG, AssetAlias
        BASE = set(sys.modules)
        from airflow_provider_aep.assets import aep_dataset_asset
        from airflow_provider_aep.openlineage_facets import openlineage_enabled
        from airflow_provider_aep.operators import AEPCreateDatasetOperator
        from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
        from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
        from airflow.providers_manager import ProvidersManager

        with DAG("no_openlineage", schedule=None):
            dataset = aep_dataset_asset("d", sandbox="prod", org_id="O@AdobeOrg")
            AEPTriggerFlowRunOperator(task_id="run", flow_id="f", outlets=[dataset])
            AEPFlowRunSensor(task_id="wait", flow_run_id="r", outlets=[AssetAlias("payments")])
            AEPCreateDatasetOperator(task_id="dataset", name="d", schema_id="s")
        manager = ProvidersManager()
        RESULT = [openlineage_enabled(), "aep" in manager.asset_uri_handlers]
        """,
        blocked=("openlineage", "airflow.providers.openlineage"),
        hidden=(
            "apache-airflow-providers-openlineage",
            "openlineage-python",
            "openlineage-integration-common",
            "openlineage-sql",
        ),
    )
    assert answer["result"] == [False, True]
