"""Schema Registry as Adobe documents it: ``meta:extends`` lists the whole inheritance chain (seed 004,
``schema-registry.yaml`` examples) and lists page with ``orderby``/``limit``/``start`` and
``_page.next`` (help/xdm/api/appendix.md)."""

from __future__ import annotations

from typing import Any

import pytest

from .platform import SCHEMAS, PlatformClient

XDM = "https://ns.adobe.com/xdm/"
XED_ID = "application/vnd.adobe.xed-id+json"


def _create(aep: PlatformClient, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = aep.request("POST", f"{SCHEMAS}/tenant/{kind}", {"type": "object", "description": "d", **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_the_payments_tutorial_schema_extends_the_whole_chain(aep: PlatformClient) -> None:
    # The request of seed 004 ("Target schema for payments"), field group listed twice as there.
    profile = XDM + "context/profile"
    person, personal = XDM + "context/profile-person-details", XDM + "context/profile-personal-details"
    schema = _create(
        aep,
        "schemas",
        {
            "type": "object",
            "title": "Target schema for payments",
            "description": "Target schema for payments",
            "allOf": [{"$ref": profile}, {"$ref": person}, {"$ref": personal}, {"$ref": personal}],
            "meta:containerId": "tenant",
            "meta:resourceType": "schemas",
            "meta:xdmType": "object",
            "meta:class": profile,
        },
    )
    # The seed's answer, in its order.
    assert schema["meta:extends"] == [
        person,
        personal,
        XDM + "common/auditable",
        XDM + "data/record",
        profile,
    ]
    assert schema["refs"] == [person, personal, profile]
    stored = aep.request(
        "GET",
        f"{SCHEMAS}/tenant/schemas/{schema['meta:altId']}",
        headers={"Accept": "application/vnd.adobe.xed-full+json; version=1"},
    ).json()
    assert stored["meta:extends"] == schema["meta:extends"]


def test_tenant_classes_pass_their_chain_on_to_their_schemas(aep: PlatformClient) -> None:
    klass = _create(
        aep,
        "classes",
        {
            "title": "Payments ad hoc class",
            "type": "object",
            "allOf": [{"$ref": XDM + "data/adhoc"}, {"properties": {"_adhoc": {"type": "object"}}}],
        },
    )
    assert klass["meta:extends"] == [XDM + "data/adhoc"]
    schema = _create(aep, "schemas", {"title": "Payments ad hoc schema", "allOf": [{"$ref": klass["$id"]}]})
    assert schema["meta:extends"] == [XDM + "data/adhoc", klass["$id"]]
    events = _create(
        aep, "schemas", {"title": "Events", "allOf": [{"$ref": XDM + "context/experienceevent"}]}
    )
    assert events["meta:extends"] == [XDM + "data/time-series", XDM + "context/experienceevent"]


@pytest.fixture
def titles(aep: PlatformClient) -> list[str]:
    names = ["delta", "Alpha", "charlie", "bravo", "echo"]
    for name in names:
        _create(aep, "schemas", {"title": name, "allOf": [{"$ref": XDM + "context/profile"}]})
    return sorted(names, key=str.lower)


def _list(aep: PlatformClient, **params: str) -> dict[str, Any]:
    answer = aep.request("GET", f"{SCHEMAS}/tenant/schemas", params=params, headers={"Accept": XED_ID})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("orderby", ["title", "-title"])
def test_pages_follow_page_next_in_either_order(aep: PlatformClient, titles: list[str], orderby: str) -> None:
    seen: list[str] = []
    params = {"orderby": orderby, "limit": "2"}
    for _ in range(10):
        body = _list(aep, **params)
        assert body["_page"]["orderby"] == orderby
        assert body["_page"]["count"] == len(body["results"]) <= 2
        seen += [item["title"] for item in body["results"]]
        if body["_page"]["next"] is None:
            break
        params = {**params, "start": body["_page"]["next"]}
    assert seen == (titles if orderby == "title" else titles[::-1])


def test_without_limit_one_page_sorted_by_title(aep: PlatformClient, titles: list[str]) -> None:
    body = _list(aep)
    assert [item["title"] for item in body["results"]] == titles
    assert body["_page"] == {"orderby": "title", "next": None, "count": 5}


@pytest.mark.parametrize("params", [{"limit": "2"}, {"start": "a"}, {"orderby": "title", "limit": "501"}])
def test_limit_and_start_need_orderby_and_a_valid_limit(aep: PlatformClient, params: dict[str, str]) -> None:
    answer = aep.request("GET", f"{SCHEMAS}/tenant/schemas", params=params, headers={"Accept": XED_ID})
    assert answer.status_code == 400
    assert answer.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1000-400"


def test_a_bad_property_filter_is_an_xdm_error(aep: PlatformClient) -> None:
    answer = aep.request(
        "GET", f"{SCHEMAS}/tenant/schemas", params={"property": "=="}, headers={"Accept": XED_ID}
    )
    assert answer.status_code == 400
    assert answer.json()["type"].endswith("XDM-1000-400")
