"""Streaming (seed 000, Shopify): the flow's inlet URL accepts events and counts them."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_aep.emulator.testing import RunningEmulator

from .platform import FLOW, PlatformClient

SHOPIFY_SPEC = "e77fd9d2-22a8-11ed-861d-0242ac120002"
STREAMING_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"


@pytest.fixture
def streaming_flow(aep: PlatformClient, batch_setup: dict[str, str]) -> str:
    source = aep.created_id(
        "POST",
        f"{FLOW}/sourceConnections",
        {
            "name": "Shopify Streaming Source Connection",
            "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
            "connectionSpec": {"id": SHOPIFY_SPEC, "version": "1.0"},
            "data": {"format": "json"},
        },
    )
    return aep.created_id(
        "POST",
        f"{FLOW}/flows",
        {
            "name": "Shopify Streaming Dataflow",
            "flowSpec": {"id": STREAMING_FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [source],
            "targetConnectionIds": [batch_setup["target"]],
            "transformations": [
                {"name": "Mapping", "params": {"mappingId": batch_setup["mapping"], "mappingVersion": 0}}
            ],
        },
    )


def test_events_posted_to_the_inlet_are_counted(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str, batch_setup: dict[str, str]
) -> None:
    inlet = aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"]
    with httpx.Client(timeout=10.0) as webhook:
        for order in range(3):
            answer = webhook.post(
                inlet, json={"header": {"source": {"name": "shopify"}}, "body": {"id": order}}
            )
            assert answer.status_code == 200
            assert answer.json()["inletId"] == inlet.rsplit("/", 1)[1]
            assert answer.json()["receivedTimeMs"] > 0
        assert webhook.post(inlet, json=[{"id": 4}, {"id": 5}]).status_code == 200
    emulator.advance_clock(2)
    runs = aep.request("GET", f"{FLOW}/runs", params={"property": f"flowId=={streaming_flow}"}).json()[
        "items"
    ]
    assert len(runs) == 1
    assert runs[0]["metrics"]["recordSummary"]["inputRecordCount"] == 5
    records = emulator.state()["prod"]["datasetRecords"]
    assert records == [{"dataSetId": batch_setup["dataset"], "records": 5}]


def test_inlet_url_location_is_configurable(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str
) -> None:
    emulator.configure(inlet_url_location="options")
    flow = aep.item(f"{FLOW}/flows/{streaming_flow}")
    assert "inletUrl" not in flow
    assert flow["options"]["inletUrl"].startswith(emulator.url + "/collection/")


def test_streaming_flows_take_no_schedule_nor_on_demand_runs(
    aep: PlatformClient, streaming_flow: str
) -> None:
    answer = aep.request("POST", f"{FLOW}/runs", {"flowId": streaming_flow, "params": {}})
    assert answer.status_code == 400


def test_unknown_inlet_and_bad_payloads(
    emulator: RunningEmulator, aep: PlatformClient, streaming_flow: str
) -> None:
    inlet = aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"]
    with httpx.Client(timeout=10.0) as webhook:
        assert webhook.post(emulator.url + "/collection/" + "0" * 64, json={}).status_code == 404
        assert (
            webhook.post(inlet, content=b"not json", headers={"Content-Type": "application/json"}).status_code
            == 400
        )
        too_big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
        assert (
            webhook.post(inlet, content=too_big, headers={"Content-Type": "application/json"}).status_code
            == 413
        )
