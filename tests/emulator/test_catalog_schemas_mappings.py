"""Catalog datasets, Schema Registry schemas and classes, Data Prep mapping sets."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from .platform import CATALOG, CONVERSION, SCHEMAS, XED_FULL, PlatformClient

XED_ID = "application/vnd.adobe.xed-id+json"


def _schema(title: str, ref: str = "https://ns.adobe.com/xdm/context/profile") -> dict[str, Any]:
    return {"type": "object", "title": title, "allOf": [{"$ref": ref}]}


def test_schema_ids_lookup_by_id_or_alt_id_and_list_filter(aep: PlatformClient) -> None:
    created = aep.request("POST", f"{SCHEMAS}/tenant/schemas", _schema("Orders")).json()
    assert re.fullmatch(r"https://ns\.adobe\.com/emulatortenant/schemas/[0-9a-f]{48}", created["$id"])
    assert created["meta:class"] == "https://ns.adobe.com/xdm/context/profile"
    by_id = aep.request(
        "GET", f"{SCHEMAS}/tenant/schemas/{quote(created['$id'], safe='')}", headers={"Accept": XED_FULL}
    )
    assert by_id.json()["title"] == "Orders"
    by_alt = aep.request(
        "GET", f"{SCHEMAS}/tenant/schemas/{created['meta:altId']}", headers={"Accept": XED_FULL}
    )
    assert by_alt.json()["$id"] == created["$id"]
    listed = aep.request(
        "GET", f"{SCHEMAS}/tenant/schemas", params={"property": "title==Orders"}, headers={"Accept": XED_ID}
    )
    assert [item["$id"] for item in listed.json()["results"]] == [created["$id"]]
    no_accept = aep.request("GET", f"{SCHEMAS}/tenant/schemas/{created['meta:altId']}")
    assert no_accept.status_code == 400
    assert no_accept.json()["type"].endswith("XDM-1007-400")


def test_titles_are_unique_across_kinds(aep: PlatformClient) -> None:
    assert aep.request("POST", f"{SCHEMAS}/tenant/schemas", _schema("Shared title")).status_code == 201
    again = aep.request("POST", f"{SCHEMAS}/tenant/schemas", _schema("Shared title"))
    assert again.status_code == 400
    assert again.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1521-400"
    as_class = aep.request(
        "POST", f"{SCHEMAS}/tenant/classes", _schema("Shared title", "https://ns.adobe.com/xdm/data/record")
    )
    assert as_class.json()["type"].endswith("XDM-1521-400")


def test_adhoc_class_is_renamed_and_usable_by_a_schema(aep: PlatformClient) -> None:
    body = {
        "title": "Ad hoc class",
        "type": "object",
        "allOf": [
            {"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
            {"properties": {"_adhoc": {"type": "object", "properties": {"field": {"type": "string"}}}}},
        ],
    }
    created = aep.request("POST", f"{SCHEMAS}/tenant/classes", body)
    assert created.status_code == 201
    klass = created.json()
    names = list(klass["allOf"][1]["properties"])
    assert len(names) == 1
    assert re.fullmatch(r"_[0-9a-f]{32}", names[0])
    schema = aep.request("POST", f"{SCHEMAS}/tenant/schemas", _schema("Ad hoc schema", klass["$id"]))
    assert schema.status_code == 201
    assert schema.json()["meta:class"] == klass["$id"]
    unknown = aep.request(
        "POST",
        f"{SCHEMAS}/tenant/schemas",
        _schema("Orphan", "https://ns.adobe.com/emulatortenant/classes/nope"),
    )
    assert unknown.status_code == 404


def test_stats_names_the_tenant(aep: PlatformClient) -> None:
    assert aep.request("GET", f"{SCHEMAS}/stats").json()["tenantId"] == "emulatortenant"


def test_datasets_keyed_by_id_with_paging_and_filter(aep: PlatformClient) -> None:
    schema = aep.created_id("POST", f"{SCHEMAS}/tenant/schemas", _schema("Dataset schema"))
    ids = [
        aep.created_id(
            "POST",
            f"{CATALOG}/dataSets",
            {"name": f"ds-{n}", "schemaRef": {"id": schema, "contentType": XED_FULL}},
        )
        for n in range(3)
    ]
    one = aep.request("GET", f"{CATALOG}/dataSets/{ids[0]}").json()
    assert list(one) == [ids[0]]
    assert one[ids[0]]["name"] == "ds-0"
    page = aep.request("GET", f"{CATALOG}/dataSets", params={"limit": "2", "start": "1"}).json()
    assert list(page) == ids[1:]
    named = aep.request("GET", f"{CATALOG}/dataSets", params={"property": "name==ds-2"}).json()
    assert list(named) == [ids[2]]
    assert aep.request("GET", f"{CATALOG}/dataSets", params={"limit": "101"}).status_code == 400
    assert aep.request("DELETE", f"{CATALOG}/dataSets/{ids[0]}").status_code == 200
    assert aep.request("GET", f"{CATALOG}/dataSets/{ids[0]}").status_code == 404
    bad = {"name": "x", "schemaRef": {"id": "https://ns.adobe.com/emulatortenant/schemas/none"}}
    assert aep.request("POST", f"{CATALOG}/dataSets", bad).status_code == 400


def test_mapping_sets_in_both_shapes(aep: PlatformClient) -> None:
    schema = aep.created_id("POST", f"{SCHEMAS}/tenant/schemas", _schema("Mapping schema"))
    current = aep.request(
        "POST",
        f"{CONVERSION}/mappingSets",
        {
            "outputSchema": {"schemaRef": {"id": schema, "contentType": XED_FULL}},
            "mappings": [
                {"sourceType": "ATTRIBUTE", "source": "Product_Name", "destination": "product.name"}
            ],
        },
    )
    assert current.status_code == 200
    summary = current.json()
    assert summary["version"] == 0
    assert isinstance(summary["createdDate"], int)
    stored = aep.request("GET", f"{CONVERSION}/mappingSets/{summary['id']}").json()
    assert stored["mappings"][0]["destination"] == "product.name"
    legacy = aep.request(
        "POST",
        f"{CONVERSION}/mappingSets",
        {
            "xdmSchema": schema,
            "xdmVersion": "1.0",
            "mappings": [{"sourceAttribute": "a", "destinationXdmPath": "b"}],
        },
    ).json()
    assert (
        aep.request("GET", f"{CONVERSION}/mappingSets/{legacy['id']}").json()["mappings"][0]["source"] == "a"
    )
    listed = aep.request("GET", f"{CONVERSION}/mappingSets", params={"start": "0", "limit": "10"}).json()
    assert {item["id"] for item in listed["data"]} == {summary["id"], legacy["id"]}
    # a list must send start and limit (data-prep.yaml; help/data-prep/api/mapping-set.md)
    assert aep.request("GET", f"{CONVERSION}/mappingSets", params={"limit": "10"}).status_code == 400
    # Adobe documents no DELETE of a mapping set
    assert aep.request("DELETE", f"{CONVERSION}/mappingSets/{legacy['id']}").status_code in (404, 405)
    unknown = aep.request(
        "POST",
        f"{CONVERSION}/mappingSets",
        {"xdmSchema": "https://x", "mappings": [{"source": "a", "destination": "b"}]},
    )
    assert unknown.status_code == 400
