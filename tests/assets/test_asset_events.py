"""Asset events of the run operator and the sensor, against the emulator over real HTTP.

The ``extra`` of each event is compared with what AEP itself shows (``GET /runs/{id}``): counts from
``metrics.recordSummary``, batches from ``activities[].targetInfo``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.sdk import Asset, AssetAlias

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.assets import aep_dataset_asset
from airflow_provider_aep.exceptions import AEPConfigError, AEPFlowRunFailedError
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from tests.assets.asset_helpers import (
    OL_TRANSPORT,
    asset_context,
    execute,
    flow_dataset,
    requested_paths,
    run_facts,
)
from tests.flow_runs.flow_run_helpers import (
    FAR_FUTURE,
    MakeFlow,
    midnight,
    planned_window,
    runs_in_state,
    start_run,
)

WINDOW = (midnight(3), midnight(2))


@pytest.fixture(autouse=True)
def _openlineage_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about asset events: no OpenLineage transport, so lineage reads nothing."""
    monkeypatch.delenv(OL_TRANSPORT, raising=False)


def run_operator(flow_id: str, **kwargs: Any) -> AEPTriggerFlowRunOperator:
    return AEPTriggerFlowRunOperator(
        task_id="ingest", flow_id=flow_id, delta_column="Update_Time", poll_interval=0.2, **kwargs
    )


def sensor(**kwargs: Any) -> AEPFlowRunSensor:
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("timeout", 30)
    return AEPFlowRunSensor(task_id="wait", poke_interval=0.2, **kwargs)


def expected_extra(
    aep: RunningEmulator, hook: AEPHook, flow: str, run_ids: list[str], window: tuple[int, int] | None
) -> dict[str, Any]:
    """The extra an event must carry, from AEP's own answers."""
    facts = [run_facts(hook, run_id) for run_id in run_ids]
    return {
        "org_id": aep.org_id,
        "sandbox": "prod",
        "dataset_id": flow_dataset(hook, flow),
        "flow_id": flow,
        "run_id": run_ids[-1],
        "run_ids": run_ids,
        "window_start": window[0] if window else None,
        "window_end": window[1] if window else None,
        "input_records": sum(f["input_records"] for f in facts),
        "output_records": sum(f["output_records"] for f in facts),
        "failed_records": sum(f["failed_records"] for f in facts),
        "batch_ids": [batch for f in facts for batch in f["batch_ids"]],
    }


@pytest.mark.parametrize("deferrable", [False, True])
def test_run_operator_fills_the_dataset_event(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    context = asset_context(*WINDOW)
    run_id = execute(run_operator(flow, outlets=[dataset], deferrable=deferrable), context, deferrable)
    extra = context["outlet_events"][dataset].extra
    assert extra == expected_extra(aep, hook, flow, [run_id], WINDOW)
    assert extra["output_records"] > 0
    assert len(extra["batch_ids"]) == 1, "the emulator's run writes one batch"


@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_adds_one_event_per_dataset_to_an_alias(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, deferrable: bool
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    run_id = start_run(hook, flow, days_ago=2)
    alias = AssetAlias("payments")
    context = asset_context(*WINDOW)
    assert execute(sensor(flow_run_id=run_id, outlets=[alias], deferrable=deferrable), context, deferrable)
    [event] = context["outlet_events"][alias].asset_alias_events
    uri = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id).uri
    assert (event.dest_asset_key.name, event.dest_asset_key.uri) == (uri, uri)
    # by run id, the window is the one the run shows (its copy activity)
    [run] = runs_in_state(aep, flow)
    assert event.extra == expected_extra(aep, hook, flow, [run_id], planned_window(run))


def test_sensor_window_mode_sums_the_covering_runs(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    # a daily dataflow whose runs at midnight(-1) (all history, backfill) and midnight(-2) cover
    # [midnight(0), midnight(-2)): two covering runs
    flow = make_flow(frequency="day", interval=1, start_time=midnight(-1))
    aep.advance_clock(midnight(-2) - time.time() + 5)
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    context = asset_context(midnight(0), midnight(-2))
    covering = sensor(flow_id=flow, outlets=[dataset], timeout=10).execute(context)
    assert len(covering) == 2
    extra = context["outlet_events"][dataset].extra
    assert extra == expected_extra(aep, hook, flow, covering, (midnight(0), midnight(-2)))
    assert len(extra["batch_ids"]) == 2


@pytest.mark.parametrize(
    "outlet",
    [
        pytest.param(("another-dataset", "prod", None), id="another dataset"),
        pytest.param((None, "dev", None), id="another sandbox"),
        pytest.param((None, "prod", "OTHER@AdobeOrg"), id="another org"),
    ],
)
def test_an_outlet_the_dataflow_does_not_write_fails_naming_both(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow, outlet: tuple[str | None, str, str | None]
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    written = flow_dataset(hook, flow)
    dataset_id, sandbox, org_id = outlet
    wrong = aep_dataset_asset(dataset_id or written, sandbox=sandbox, org_id=org_id or aep.org_id)
    context = asset_context(*WINDOW)
    with pytest.raises(AEPConfigError) as refused:
        run_operator(flow, outlets=[wrong]).execute(context)
    message = str(refused.value)
    assert wrong.uri in message
    assert aep_dataset_asset(written, sandbox="prod", org_id=aep.org_id).uri in message
    assert context["outlet_events"][wrong].extra == {}


def test_a_failed_run_announces_nothing(aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    aep.set_flow_outcome(flow, "failed", [{"code": "CONNECTOR-2001-500", "message": "source down"}])
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    alias = AssetAlias("payments")
    context = asset_context(*WINDOW)
    with pytest.raises(AEPFlowRunFailedError):
        run_operator(flow, outlets=[dataset, alias]).execute(context)
    assert context["outlet_events"][dataset].extra == {}
    assert context["outlet_events"][alias].asset_alias_events == []


def test_dataflow_lookups_only_when_an_outlet_needs_them(
    aep: RunningEmulator, hook: AEPHook, make_flow: MakeFlow
) -> None:
    flow = make_flow(start_time=FAR_FUTURE)
    dataset = aep_dataset_asset(flow_dataset(hook, flow), sandbox="prod", org_id=aep.org_id)
    lookups = (
        "GET /data/foundation/flowservice/flows/",
        "GET /data/foundation/flowservice/targetConnections/",
    )

    def lookups_made(outlets: list[Any], window: tuple[int, int]) -> list[str]:
        before = len(aep.requests())
        run_operator(flow, outlets=outlets).execute(asset_context(*window))
        paths = requested_paths(aep.requests()[before:])
        assert not [p for p in paths if "/sourceConnections/" in p], "sources are read for OpenLineage only"
        return [p for p in paths if p.startswith(lookups)]

    assert lookups_made([Asset("s3://bucket/key")], WINDOW) == []
    assert sorted(lookups_made([dataset], (midnight(4), midnight(3)))) == sorted(
        [f"GET /data/foundation/flowservice/flows/{flow}", lookups[1] + target_of(hook, flow)]
    )


def target_of(hook: AEPHook, flow: str) -> str:
    [target] = hook.get_item("flowservice", f"/flows/{flow}")["targetConnectionIds"]
    return str(target)


def test_aep_outlets_need_the_run_operator_to_wait() -> None:
    dataset = aep_dataset_asset("d1", sandbox="prod", org_id="ORG@AdobeOrg")
    for outlets in ([dataset], [AssetAlias("payments")]):
        with pytest.raises(ValueError, match="wait_for_completion=True"):
            run_operator("f", outlets=outlets, wait_for_completion=False)
    # any other outlet is Airflow's business
    run_operator("f", outlets=[Asset("s3://bucket/key")], wait_for_completion=False)
