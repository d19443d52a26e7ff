"""A trailing slash on any collection path gets the same answer as the bare path (the public ``aepp``
client sends ``/tenant/schemas/``; ``flow-service.yaml`` writes ``/connections/{id}/``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aep_emulator.testing import RunningEmulator

from .platform import CATALOG, CONVERSION, FLOW, SCHEMAS, XED_FULL, PlatformClient

LISTS = [
    f"{FLOW}/connections",
    f"{FLOW}/sourceConnections",
    f"{FLOW}/targetConnections",
    f"{FLOW}/flows",
    f"{FLOW}/runs",
    f"{FLOW}/flowSpecs",
    f"{FLOW}/connectionSpecs",
    f"{CATALOG}/dataSets",
    f"{SCHEMAS}/tenant/schemas",
    f"{SCHEMAS}/tenant/classes",
    f"{SCHEMAS}/stats",
    f"{CONVERSION}/mappingSets?start=0&limit=10",
]


def _answer(answer: httpx.Response) -> Any:
    return answer.status_code, answer.json()


@pytest.mark.parametrize("path", LISTS)
def test_lists_answer_the_same_with_a_trailing_slash(
    aep: PlatformClient, batch_setup: dict[str, str], path: str
) -> None:
    aep.once_flow(batch_setup)
    headers = {"Accept": XED_FULL}
    bare_path, _, query = path.partition("?")
    bare = aep.request("GET", path, headers=headers)
    slashed = aep.request("GET", f"{bare_path}/" + (f"?{query}" if query else ""), headers=headers)
    assert bare.status_code == 200
    assert _answer(slashed) == _answer(bare)


def test_creates_and_item_calls_accept_a_trailing_slash(aep: PlatformClient) -> None:
    schema = aep.request(
        "POST",
        f"{SCHEMAS}/tenant/schemas/",
        {
            "type": "object",
            "title": "Slashed",
            "description": "Slashed",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )
    assert schema.status_code == 201, schema.text
    adhoc = aep.request(
        "POST",
        f"{SCHEMAS}/tenant/classes/",
        {
            "type": "object",
            "title": "Slashed class",
            "description": "d",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}],
        },
    )
    assert adhoc.status_code == 201, adhoc.text
    dataset = aep.request(
        "POST", f"{CATALOG}/dataSets/", {"name": "d", "schemaRef": {"id": schema.json()["$id"]}}
    )
    assert dataset.status_code == 201, dataset.text
    dataset_id = dataset.json()[0].rsplit("/", 1)[1]
    assert list(aep.request("GET", f"{CATALOG}/dataSets/{dataset_id}/").json()) == [dataset_id]
    mapping = aep.request(
        "POST",
        f"{CONVERSION}/mappingSets/",
        {
            "outputSchema": {"schemaRef": {"id": schema.json()["$id"], "contentType": XED_FULL}},
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "a", "destination": "b"}],
        },
    )
    assert mapping.status_code == 200, mapping.text


def test_flow_service_creates_and_patches_accept_a_trailing_slash(
    aep: PlatformClient, batch_setup: dict[str, str]
) -> None:
    body = aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "once"})
    flow = aep.request("POST", f"{FLOW}/flows/", body)
    assert flow.status_code == 201, flow.text
    base = f"{FLOW}/connections/{batch_setup['base']}"
    etag = aep.item(base)["etag"]
    patched = aep.request(
        "PATCH",
        base + "/",
        [{"op": "replace", "path": "/name", "value": "renamed"}],
        headers={"If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert aep.item(base + "/")["name"] == "renamed"


def test_streaming_inlets_accept_a_trailing_slash(emulator: RunningEmulator) -> None:
    unknown = f"{emulator.url}/collection/{'0' * 64}"
    with httpx.Client(timeout=10.0) as webhook:
        bare = webhook.post(unknown, json={"id": 1})
        slashed = webhook.post(unknown + "/", json={"id": 1})
    # The inlet's own 404 (not a redirect, not the gateway's unknown-path 404).
    assert _answer(slashed) == _answer(bare)
    assert bare.status_code == 404
    assert bare.json()["type"].endswith("DCS-404")
