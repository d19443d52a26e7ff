"""OpenLineage facets of the run operator, the sensor and the dataset operator, after real runs against
the emulator, with the ``openlineage`` extra installed and a transport configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.sdk import DAG

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.assets import aep_dataset_asset
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.openlineage_facets import convert_asset_to_openlineage, openlineage_enabled
from airflow_provider_aep.operators import AEPCreateDatasetOperator
from tests.assets.asset_helpers import (
    OL_TRANSPORT,
    execute,
    flow_dataset,
    requested_paths,
    run_facts,
)
from tests.assets.openlineage_events import (
    check_event_source_and_dataset,
    check_source_and_dataset,
    emit_task_event,
    facet_fields,
    ingest_task,
    start_window_run,
    wait_task,
    window_context,
)

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")


def facets_as_dicts(dataset: Any, attribute: str) -> dict[str, dict[str, Any]]:
    """A dataset's facets (``facets``, ``inputFacets`` or ``outputFacets``) as plain dicts."""
    return {name: facet_fields(facet) for name, facet in (getattr(dataset, attribute) or {}).items()}


def check_ingestion_lineage(
    lineage: Any, aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str
) -> None:
    """Inputs: the source connection (its table as a symlink); outputs: the dataset with its row count."""
    check_source_and_dataset(lineage, aep, hook, flow, run_id)
    namespace = f"aep://{aep.org_id}/prod"
    facts = run_facts(hook, run_id)
    [source] = lineage.inputs
    facets = facets_as_dicts(source, "facets")
    assert facets["symlinks"]["identifiers"] == [
        {"namespace": namespace, "name": "PayPal.Catalog_Products", "type": "TABLE"}
    ]
    assert "PayPal.Catalog_Products" in facets["documentation"]["description"]
    assert facets_as_dicts(source, "inputFacets")["inputStatistics"]["rowCount"] == facts["input_records"]
    [output] = lineage.outputs
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    assert f"{output.namespace}/{output.name}" == dataset.uri, "the same identity as the asset"
    statistics = facets_as_dicts(output, "outputFacets")["outputStatistics"]
    assert statistics["rowCount"] == facts["output_records"] > 0
    assert lineage.run_facets["externalQuery"].source == namespace


@pytest.mark.usefixtures("openlineage_on")
@pytest.mark.parametrize("deferrable", [False, True])
def test_run_operator_reports_source_in_dataset_out(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, deferrable: bool
) -> None:
    task = ingest_task(idle_flow, deferrable=deferrable)
    run_id = execute(task, window_context(), deferrable)
    check_ingestion_lineage(task.get_openlineage_facets_on_complete(None), aep, hook, idle_flow, run_id)


@pytest.mark.usefixtures("openlineage_on")
@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_reports_source_in_dataset_out(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, deferrable: bool
) -> None:
    run_id = start_window_run(hook, idle_flow)
    task = wait_task(run_id, deferrable=deferrable)
    execute(task, window_context(), deferrable)
    check_ingestion_lineage(task.get_openlineage_facets_on_complete(None), aep, hook, idle_flow, run_id)


@pytest.mark.usefixtures("openlineage_on")
def test_the_openlineage_provider_extracts_it_from_the_task(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str
) -> None:
    """The provider's own extractor (what its listener calls when a task ends) finds our facets."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.utils.state import TaskInstanceState

    with DAG("aep_lineage", schedule=None):
        task = ingest_task(idle_flow)
    run_id = task.execute(window_context())
    lineage = ExtractorManager().extract_metadata(  # type: ignore[no-untyped-call]
        dagrun=mock.Mock(run_id="manual"),
        task=task,
        task_instance_state=TaskInstanceState.SUCCESS,
        task_instance=mock.Mock(),
    )
    check_ingestion_lineage(lineage, aep, hook, idle_flow, run_id)


def test_the_emitted_complete_event_names_source_dataset_and_rows_written(
    aep: RunningEmulator, hook: AEPHook, idle_flow: str, events_file: Path
) -> None:
    """The COMPLETE event as the file transport wrote it: the run's source in, its dataset out with
    the rows AEP wrote, the run as external query and the quality gate passed."""
    with DAG("aep_lineage", schedule=None):
        task = ingest_task(idle_flow)
    run_id = task.execute(window_context())
    event = emit_task_event(task, mock.Mock(), events_file)
    assert event["eventType"] == "COMPLETE"
    check_event_source_and_dataset(event, aep, hook, idle_flow, run_id)
    facts = run_facts(hook, run_id)
    assert event["inputs"][0]["inputFacets"]["inputStatistics"]["rowCount"] == facts["input_records"]
    assert facts["output_records"] > 0
    run = event["run"]["facets"]
    [test] = run["test"]["tests"]
    assert (test["name"], test["status"], test["actual"]) == ("aep_dropped_rows", "pass", "0")
    assert "errorMessage" not in run


def test_without_a_transport_nothing_is_read_and_nothing_reported(
    aep: RunningEmulator, idle_flow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OL_TRANSPORT, raising=False)
    assert not openlineage_enabled()
    before = len(aep.requests())
    task = ingest_task(idle_flow)
    task.execute(window_context())
    paths = requested_paths(aep.requests()[before:])
    assert not [p for p in paths if "/flows/" in p or "Connections/" in p], paths
    assert task.get_openlineage_facets_on_complete(None) is None


@pytest.mark.usefixtures("openlineage_on")
def test_dataset_operator_reports_its_dataset_created_then_reused(
    aep: RunningEmulator, hook: AEPHook
) -> None:
    schema = hook.post(
        "schemaregistry",
        "/tenant/schemas",
        json={
            "type": "object",
            "title": "Lineage test schema",
            "description": "a schema for the dataset operator's lineage",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )["$id"]
    facets_by_try = []
    for _ in range(2):
        task = AEPCreateDatasetOperator(task_id="dataset", name="Lineage test dataset", schema_id=schema)
        assert task.get_openlineage_facets_on_complete(None) is None, "nothing before it ran"
        dataset_id = task.execute(window_context())
        lineage = task.get_openlineage_facets_on_complete(None)
        assert lineage is not None
        assert lineage.inputs == []
        [output] = lineage.outputs
        assert (output.namespace, output.name) == (f"aep://{aep.org_id}/prod", f"datasets/{dataset_id}")
        facets_by_try.append(facets_as_dicts(output, "facets"))
    created, reused = facets_by_try
    assert created["lifecycleStateChange"]["lifecycleStateChange"].value == "CREATE"
    assert "lifecycleStateChange" not in reused
    assert created["documentation"]["description"] == "AEP dataset 'Lineage test dataset'"


def test_an_aep_asset_converts_to_the_same_openlineage_dataset() -> None:
    """Assets in inlets/outlets of any task translate through the provider's registered converter."""
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset

    asset = aep_dataset_asset("5c8c3c555033b814b69f947f", sandbox="prod", org_id="ABC@AdobeOrg")
    for converted in (convert_asset_to_openlineage(asset), translate_airflow_asset(asset, None)):
        assert converted is not None
        assert (converted.namespace, converted.name) == (
            "aep://ABC@AdobeOrg/prod",
            "datasets/5c8c3c555033b814b69f947f",
        )
