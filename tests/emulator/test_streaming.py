"""Streaming (seed 000, Shopify): the flow's inlet URL accepts events and counts them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from aep_emulator.testing import RunningEmulator

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


# -- the batch endpoint: POST /collection/batch/{CONNECTION_ID} (streaming-multiple-messages.md) -----


def _batch_url(inlet: str) -> str:
    base, inlet_id = inlet.rsplit("/", 1)
    return f"{base}/batch/{inlet_id}"


def _xdm_message(setup: dict[str, str], **header: Any) -> dict[str, Any]:
    schema_ref = {"id": setup["schema"], "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    return {
        "header": {"schemaRef": schema_ref, "datasetId": setup["dataset"], "createdAt": 1, **header},
        "body": {"xdmMeta": {"schemaRef": schema_ref}, "xdmEntity": {"person": {"name": {"firstName": "J"}}}},
    }


def test_batch_answers_207_with_one_result_per_message_in_order_and_counts_the_accepted(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str, batch_setup: dict[str, str]
) -> None:
    inlet = aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"]
    inlet_id = inlet.rsplit("/", 1)[1]
    org = emulator.settings.org_id
    no_body = _xdm_message(batch_setup)
    del no_body["body"]
    other_schema = _xdm_message(batch_setup)
    other_schema["header"]["schemaRef"] = {"id": "https://ns.adobe.com/x/schemas/other", "contentType": "x"}
    messages: list[Any] = [
        {"id": 1, "email": "order@example.com"},  # a webhook source's own JSON (seed 000)
        _xdm_message(batch_setup, imsOrgId=org),
        no_body,
        _xdm_message(batch_setup, imsOrgId="invalidIMSOrg@AdobeOrg"),
        _xdm_message(batch_setup),  # no imsOrgId: DCCS adds it
        _xdm_message(batch_setup, datasetId="5da9452f7de80400007jc52a"),
        other_schema,
        "not an object",
        {"header": {"imsOrgId": org}, "body": "text"},
    ]
    with httpx.Client(timeout=10.0) as webhook:
        answer = webhook.post(_batch_url(inlet), json={"messages": messages})
    assert answer.status_code == 207
    body = answer.json()
    assert set(body) == {"inletId", "batchId", "receivedTimeMs", "responses"}
    assert body["inletId"] == inlet_id
    assert body["receivedTimeMs"] > 0
    prefix = f"inletId: [{inlet_id}] imsOrgId: [{org}] "
    unknown = {"statusCode": 400, "message": prefix + "Message has unknown xdm format"}
    wrong_org = {
        "statusCode": 400,
        "message": prefix + "Message has an absent or wrong ims org in the header",
    }
    batch_id = body["batchId"]
    assert body["responses"] == [
        {"xactionId": f"{batch_id}:0"},
        {"xactionId": f"{batch_id}:1"},
        unknown,
        wrong_org,
        {"xactionId": f"{batch_id}:4"},
        unknown,
        unknown,
        unknown,
        unknown,
    ]
    emulator.advance_clock(2)
    runs = aep.request("GET", f"{FLOW}/runs", params={"property": f"flowId=={streaming_flow}"}).json()[
        "items"
    ]
    assert runs[0]["metrics"]["recordSummary"]["inputRecordCount"] == 3
    assert emulator.state()["prod"]["datasetRecords"] == [{"dataSetId": batch_setup["dataset"], "records": 3}]


def test_batch_request_level_errors(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str
) -> None:
    inlet = aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"]
    url = _batch_url(inlet)
    json_type = {"Content-Type": "application/json"}
    with httpx.Client(timeout=10.0) as webhook:
        unknown_inlet = webhook.post(
            _batch_url(emulator.url + "/collection/" + "0" * 64), json={"messages": [{}]}
        )
        assert unknown_inlet.status_code == 404
        for bad in (b"not json", b"[]", b"{}", b'{"messages": 1}', b'{"messages": []}', b"1", b'{"a": NaN}'):
            answer = webhook.post(url, content=bad, headers=json_type)
            assert answer.status_code == 400, bad
            assert "DCS-400" in answer.json()["type"]
        assert (
            webhook.post(
                url, content=b'{"messages": [{}]}', headers={"Content-Type": "text/plain"}
            ).status_code
            == 400
        )
        # 1 MB is the whole request: many small messages over it are refused together (413), nothing counted.
        filler = "a" * 1000
        over = {"messages": [{"n": index, "x": filler} for index in range(1100)]}
        assert webhook.post(url, json=over).status_code == 413
        under = {"messages": [{"n": index, "x": filler} for index in range(1000)]}
        answer = webhook.post(url, json=under)
        assert answer.status_code == 207
        assert len(answer.json()["responses"]) == 1000
    inlets = emulator.state()["prod"]["inlets"]
    assert [i["records"] for i in inlets] == [1000]


def test_rate_limit_answers_429_with_retry_after(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str
) -> None:
    inlet = aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"]
    assert emulator.configure(streaming_rate_limit_per_second=3)["streaming_rate_limit_per_second"] == 3
    with httpx.Client(timeout=10.0) as webhook:
        statuses = [
            webhook.post(_batch_url(inlet), json={"messages": [{"n": 1}]}).status_code for _ in range(3)
        ]
        limited = webhook.post(inlet, json={"n": 1})  # the single-message endpoint shares the limit
        assert statuses == [207, 207, 207]
        assert limited.status_code == 429  # (four loopback requests take milliseconds, not a second)
        assert limited.headers["Retry-After"] == "1"
        assert "DCS-429" in limited.json()["type"]
        time.sleep(1.0)
        assert webhook.post(inlet, json={"n": 1}).status_code == 200
    assert [i["records"] for i in emulator.state()["prod"]["inlets"]] == [4]
    emulator.configure(streaming_rate_limit_per_second=0)
    assert emulator.configure()["streaming_rate_limit_per_second"] is None


@pytest.mark.parametrize("value", [-1, "fast", True, 1e12])
def test_rate_limit_config_is_checked(emulator: RunningEmulator, value: Any) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        emulator.configure(streaming_rate_limit_per_second=value)


def test_brackets_and_escaped_quotes_inside_strings_are_not_nesting(
    aep: PlatformClient, emulator: RunningEmulator, streaming_flow: str
) -> None:
    """The body's depth check counts only structure: strings full of brackets, escaped quotes and
    backslashes are any depth, while a message nested deeper than 64 levels is refused (400)."""
    url = _batch_url(aep.item(f"{FLOW}/flows/{streaming_flow}")["inletUrl"])
    tricky = ['\\"[[[[' * 40, "\\\\" + "{" * 200, '"]}' * 100 + "\\", "é[" * 100]

    def nested(levels: int) -> dict[str, Any]:
        """A batch body ``levels`` deep: the envelope's object, list and message make 3 of them."""
        value: Any = 1
        for _ in range(levels - 3):
            value = [value]
        return {"messages": [{"n": value}]}

    with httpx.Client(timeout=10.0) as webhook:
        accepted = webhook.post(url, json={"messages": [{"note": text, "n": 1} for text in tricky]})
        assert accepted.status_code == 207
        assert all("xactionId" in result for result in accepted.json()["responses"])
        too_deep = webhook.post(url, json=nested(65))
        assert too_deep.status_code == 400
        assert "deeper than 64" in too_deep.json()["title"]
        assert webhook.post(url, json=nested(64)).status_code == 207
    assert [i["records"] for i in emulator.state()["prod"]["inlets"]] == [len(tricky) + 1]
