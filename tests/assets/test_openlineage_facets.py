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
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.assets.asset_helpers import (
    OL_TRANSPORT,
    asset_context,
    execute,
    flow_dataset,
    flow_source,
    requested_paths,
    run_facts,
)
from tests.assets.openlineage_events import emit_task_event, use_file_transport
from tests.flow_runs.flow_run_helpers import FAR_FUTURE, MakeFlow, midnight, start_run

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

WINDOW = (midnight(3), midnight(2))


@pytest.fixture
def openlineage_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transport configured: the OpenLineage provider is enabled (its config is not cached in tests)."""
    monkeypatch.setenv(OL_TRANSPORT, '{"type": "console"}')
    assert openlineage_enabled()


def facets_as_dicts(dataset: Any, attribute: str) -> dict[str, dict[str, Any]]:
    """A dataset's facets (``facets``, ``inputFacets`` or ``outputFacets``) as plain dicts."""
    import attrs

    return {
        name: {k: v for k, v in attrs.asdict(facet).items() if not k.startswith("_") and k != "producer"}
        for name, facet in (getattr(dataset, attribute) or {}).items()
    }


def check_ingestion_lineage(
    lineage: Any, aep: RunningEmulator, hook: AEPHook, flow: str, run_id: str
) -> None:
    """Inputs: the source connection (its table as a symlink); outputs: the dataset with its row count."""
    namespace = f"aep://{aep.org_id}/prod"
    facts = run_facts(hook, run_id)
    [source] = lineage.inputs
    assert (source.namespace, source.name) == (namespace, f"sourceConnections/{flow_source(hook, flow)}")
    facets = facets_as_dicts(source, "facets")
    assert facets["symlinks"]["identifiers"] == [
        {"namespace": namespace, "name": "PayPal.Catalog_Products", "type": "TABLE"}
    ]
    assert "PayPal.Catalog_Products" in facets["documentation"]["description"]
    assert facets_as_dicts(source, "inputFacets")["inputStatistics"]["rowCount"] == facts["input_records"]
    [output] = lineage.outputs
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    assert (output.namespace, output.name) == (namespace, f"datasets/{flow_dataset(hook, flow)}")
    assert f"{output.namespace}/{output.name}" == dataset.uri, "the same identity as the asset"
    statistics = facets_as_dicts(output, "outputFacets")["outputStatistics"]
    assert statistics["rowCount"] == facts["output_records"] > 0
    assert lineage.run_facets["externalQuery"].externalQueryId == run_id
    assert lineage.run_facets["externalQuery"].source == namespace


@pytest.mark.usefixtures("openlineage_on")
@pytest.mark.parametrize("deferrable", [False, True])
def test_run_operator_reports_source_in_dataset_out(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    task = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2, deferrable=deferrable
    )
    run_id = execute(task, asset_context(*WINDOW), deferrable)
    check_ingestion_lineage(task.get_openlineage_facets_on_complete(None), aep, hook, flow, run_id)


@pytest.mark.usefixtures("openlineage_on")
@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_reports_source_in_dataset_out(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow, days_ago=2)
    task = AEPFlowRunSensor(
        task_id="wait", flow_run_id=run_id, poke_interval=0.2, timeout=30, deferrable=deferrable
    )
    execute(task, asset_context(*WINDOW), deferrable)
    check_ingestion_lineage(task.get_openlineage_facets_on_complete(None), aep, hook, flow, run_id)


@pytest.mark.usefixtures("openlineage_on")
def test_the_openlineage_provider_extracts_it_from_the_task(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    """The provider's own extractor (what its listener calls when a task ends) finds our facets."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.utils.state import TaskInstanceState

    flow = make_flow(start_time=FAR_FUTURE)
    with DAG("aep_lineage", schedule=None):
        task = AEPTriggerFlowRunOperator(task_id="ingest", flow_id=flow, delta_column="Update_Time")
    task.poll_interval = 0.2
    run_id = task.execute(asset_context(*WINDOW))
    lineage = ExtractorManager().extract_metadata(  # type: ignore[no-untyped-call]
        dagrun=mock.Mock(run_id="manual"),
        task=task,
        task_instance_state=TaskInstanceState.SUCCESS,
        task_instance=mock.Mock(),
    )
    check_ingestion_lineage(lineage, aep, hook, flow, run_id)


def test_the_emitted_complete_event_names_source_dataset_and_rows_written(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The COMPLETE event as the file transport wrote it: the run's source in, its dataset out with
    the rows AEP wrote, the run as external query and the quality gate passed."""
    events = tmp_path / "openlineage.jsonl"
    use_file_transport(events, monkeypatch)
    flow = make_flow(start_time=FAR_FUTURE)
    with DAG("aep_lineage", schedule=None):
        task = AEPTriggerFlowRunOperator(task_id="ingest", flow_id=flow, delta_column="Update_Time")
    task.poll_interval = 0.2
    run_id = task.execute(asset_context(*WINDOW))
    event = emit_task_event(task, mock.Mock(), events)
    namespace = f"aep://{aep.org_id}/prod"
    facts = run_facts(hook, run_id)
    assert event["eventType"] == "COMPLETE"
    [source] = event["inputs"]
    assert (source["namespace"], source["name"]) == (
        namespace,
        f"sourceConnections/{flow_source(hook, flow)}",
    )
    assert source["inputFacets"]["inputStatistics"]["rowCount"] == facts["input_records"]
    [output] = event["outputs"]
    assert (output["namespace"], output["name"]) == (namespace, f"datasets/{flow_dataset(hook, flow)}")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == facts["output_records"] > 0
    run = event["run"]["facets"]
    assert run["externalQuery"]["externalQueryId"] == run_id
    [test] = run["test"]["tests"]
    assert (test["name"], test["status"], test["actual"]) == ("aep_dropped_rows", "pass", "0")
    assert "errorMessage" not in run


def test_without_a_transport_nothing_is_read_and_nothing_reported(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OL_TRANSPORT, raising=False)
    assert not openlineage_enabled()
    flow = make_flow(start_time=FAR_FUTURE)
    before = len(aep.requests())
    task = AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow, delta_column="Update_Time", poll_interval=0.2
    )
    task.execute(asset_context(*WINDOW))
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
        dataset_id = task.execute(asset_context(*WINDOW))
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
