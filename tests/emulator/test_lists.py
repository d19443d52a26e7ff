"""Flow Service list semantics: property filters, orderby, continuation paging and count."""

from __future__ import annotations

from typing import Any

import pytest

from .platform import FLOW, PAYPAL_SPEC, PlatformClient


@pytest.fixture
def connections(aep: PlatformClient) -> list[str]:
    names = ["delta", "alpha", "charlie", "bravo", "echo"]
    return [
        aep.created_id(
            "POST",
            f"{FLOW}/connections",
            {
                "name": name,
                "description": f"number {index}",
                "auth": {
                    "specName": "Client-Id-Secret Based Authentication",
                    "params": {"host": "h", "clientId": f"id-{index}", "clientSecret": "s"},
                },
                "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
            },
        )
        for index, name in enumerate(names)
    ]


def _names(aep: PlatformClient, **params: Any) -> list[str]:
    answer = aep.request("GET", f"{FLOW}/connections", params=params)
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


def test_equality_inequality_or_and(aep: PlatformClient, connections: list[str]) -> None:
    assert _names(aep, property='name=="alpha"') == ["alpha"]
    assert sorted(_names(aep, property="name==alpha,echo")) == ["alpha", "echo"]
    assert len(_names(aep, property="name!=alpha")) == 4
    both = aep.request(
        "GET", f"{FLOW}/connections", params=[("property", "name==alpha,echo"), ("property", "name!=echo")]
    ).json()["items"]
    assert [item["name"] for item in both] == ["alpha"]
    assert _names(aep, property=f"id=={connections[2]}") == ["charlie"]


def test_dotted_paths_numbers_and_existence(aep: PlatformClient, connections: list[str]) -> None:
    assert _names(aep, property="auth.params.clientId==id-3") == ["bravo"]
    created = aep.item(f"{FLOW}/connections/{connections[2]}")["createdAt"]
    assert len(_names(aep, property=f"createdAt>{created - 1}")) >= 3
    assert _names(aep, property="createdAt<0") == []
    assert len(_names(aep, property="description")) == 5
    assert _names(aep, property="!description") == []


def test_orderby_both_directions(aep: PlatformClient, connections: list[str]) -> None:
    assert _names(aep, orderby="name") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert _names(aep, orderby="-name") == ["echo", "delta", "charlie", "bravo", "alpha"]


def test_continuation_paging_walks_every_item_once(aep: PlatformClient, connections: list[str]) -> None:
    seen: list[str] = []
    answer = aep.request("GET", f"{FLOW}/connections", params={"limit": "2", "orderby": "name"}).json()
    pages = 1
    while True:
        seen += [item["name"] for item in answer["items"]]
        next_link = answer["_links"].get("next")
        if not next_link:
            break
        assert next_link["href"].startswith("/connections?")
        answer = aep.request("GET", FLOW + next_link["href"]).json()
        pages += 1
    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert pages == 3
    assert answer["_links"] == {}


def test_count_and_its_limit_conflict(aep: PlatformClient, connections: list[str]) -> None:
    assert aep.request("GET", f"{FLOW}/connections", params={"count": "true"}).json() == {"count": 5}
    counted = aep.request("GET", f"{FLOW}/connections", params={"count": "true", "property": "name!=alpha"})
    assert counted.json() == {"count": 4}
    conflict = aep.request("GET", f"{FLOW}/connections", params={"count": "true", "limit": "2"})
    assert conflict.status_code == 400
    assert conflict.json()["type"].endswith("1401-400")


def test_array_paths_match_any_element(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.once_flow(batch_setup)
    found = aep.request(
        "GET", f"{FLOW}/flows", params={"property": f"sourceConnectionIds=={batch_setup['source']}"}
    ).json()["items"]
    assert [flow["id"] for flow in found] == [flow_id]
    by_base = aep.request(
        "GET",
        f"{FLOW}/flows",
        params={
            "property": f"inheritedAttributes.sourceConnections[].baseConnection.id=={batch_setup['base']}"
        },
    ).json()["items"]
    assert [flow["id"] for flow in by_base] == [flow_id]


def test_a_bad_continuation_token_is_a_400(aep: PlatformClient) -> None:
    assert aep.request("GET", f"{FLOW}/connections", params={"continuationToken": "%%%"}).status_code == 400
