"""Catalog as Adobe documents it: pages of 20 with ``start``/``limit`` (help/catalog/api/filter-data.md),
datasets carrying ``classification`` and Catalog's own ``tags`` (catalog.yaml ``datasetPatchRequestV2``)."""

from __future__ import annotations

from typing import Any

import pytest

from .platform import CATALOG, SCHEMAS, XED_FULL, PlatformClient

PROFILE = "https://ns.adobe.com/xdm/context/profile"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"


def _schema(aep: PlatformClient, title: str, ref: str = PROFILE) -> str:
    body = {"type": "object", "title": title, "description": title, "allOf": [{"$ref": ref}]}
    return aep.created_id("POST", f"{SCHEMAS}/tenant/schemas", body)


def _dataset(aep: PlatformClient, schema: str, name: str, **extra: Any) -> str:
    body = {"name": name, "schemaRef": {"id": schema, "contentType": XED_FULL}, **extra}
    return aep.created_id("POST", f"{CATALOG}/dataSets", body)


@pytest.fixture
def datasets(aep: PlatformClient) -> list[str]:
    schema = _schema(aep, "Paging schema")
    return [_dataset(aep, schema, f"paging {n:02d}") for n in range(45)]


def _page(aep: PlatformClient, **params: str) -> dict[str, Any]:
    answer = aep.request("GET", f"{CATALOG}/dataSets", params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def test_no_limit_answers_twenty_and_start_walks_every_dataset_once(
    aep: PlatformClient, datasets: list[str]
) -> None:
    assert list(_page(aep)) == datasets[:20]
    seen: list[str] = []
    while page := _page(aep, start=str(len(seen))):
        seen += list(page)
    assert seen == datasets
    assert list(_page(aep, limit="100")) == datasets
    assert list(_page(aep, limit="7", start="40")) == datasets[40:45]


@pytest.mark.parametrize("limit", ["0", "-1", "101", "abc", "", "1.5"])
def test_an_invalid_limit_is_a_400_that_names_the_valid_range(aep: PlatformClient, limit: str) -> None:
    answer = aep.request("GET", f"{CATALOG}/dataSets", params={"limit": limit})
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == 400
    assert body["type"].endswith("CAT-400")
    assert "from 1 to 100" in body["detail"]


@pytest.mark.parametrize("start", ["-1", "x"])
def test_an_invalid_start_is_a_400(aep: PlatformClient, start: str) -> None:
    answer = aep.request("GET", f"{CATALOG}/dataSets", params={"start": start})
    assert answer.status_code == 400
    assert "start" in answer.json()["detail"]


def test_datasets_carry_the_class_behaviour_and_catalogs_tags(aep: PlatformClient) -> None:
    profile = _dataset(
        aep,
        _schema(aep, "Profiles"),
        "Target dataset for payments",
        tags={"unifiedProfile": ["enabled:true"]},
    )
    events = _dataset(aep, _schema(aep, "Events", EXPERIENCE_EVENT), "Web events (2024)")
    record = aep.request("GET", f"{CATALOG}/dataSets/{profile}").json()[profile]
    assert record["classification"] == {"dataBehavior": "record", "managedBy": "CUSTOMER"}
    assert record["tags"] == {
        "adobe/pqs/table": ["target_dataset_for_payments"],
        "adobe/siphon/table/format": ["delta"],
        "unifiedProfile": ["enabled:true"],
    }
    listed = _page(aep)[events]
    assert listed["classification"]["dataBehavior"] == "time-series"
    assert listed["tags"]["adobe/pqs/table"] == ["web_events_2024"]


def test_an_adhoc_class_gives_adhoc_datasets(aep: PlatformClient) -> None:
    adhoc_class = aep.created_id(
        "POST",
        f"{SCHEMAS}/tenant/classes",
        {
            "title": "Ad hoc",
            "description": "Ad hoc",
            "type": "object",
            "allOf": [
                {"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            ],
        },
    )
    dataset = _dataset(aep, _schema(aep, "Ad hoc schema", adhoc_class), "adhoc")
    found = aep.request("GET", f"{CATALOG}/dataSets/{dataset}").json()[dataset]
    assert found["classification"]["dataBehavior"] == "adhoc"


@pytest.mark.parametrize(
    "tags", [["enabled:true"], {"unifiedProfile": "enabled:true"}, {"unifiedProfile": [True]}]
)
def test_tags_must_be_arrays_of_strings(aep: PlatformClient, tags: Any) -> None:
    schema = _schema(aep, "Tagged")
    body = {"name": "t", "schemaRef": {"id": schema}, "tags": tags}
    answer = aep.request("POST", f"{CATALOG}/dataSets", body)
    assert answer.status_code == 400
    assert "tags" in answer.json()["detail"]
