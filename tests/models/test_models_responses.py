"""The lenient readers understand every documented shape of AEP's answers."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_aep.exceptions import AEPError
from airflow_provider_aep.models.responses import created_id, etag, first_item, inlet_url, schema_id

ETAG = '"712a8c08-fda7-41c2-984b-187f823293d8"'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"id": "246d052c-da4a-494a-937f-a0d17b1c6cf5", "etag": ETAG},
            "246d052c-da4a-494a-937f-a0d17b1c6cf5",
        ),
        (
            {"items": [{"id": "3fb0418e-1804-45d6-8d56-dd51f05c0baf", "etag": ETAG}]},
            "3fb0418e-1804-45d6-8d56-dd51f05c0baf",
        ),
        (
            {
                "id": "c6d38e9a-e571-4d7e-9d4b-4ff9bd7a2d3f",
                "flowId": "f1",
                "metrics": {"statusSummary": {"status": "scheduled"}},
            },
            "c6d38e9a-e571-4d7e-9d4b-4ff9bd7a2d3f",
        ),
        (
            {"id": "bf5286a9c1ad4266baca76ba3adc9366", "version": 0, "createdDate": 1597784069368},
            "bf5286a9c1ad4266baca76ba3adc9366",
        ),
        (["@/dataSets/5e8918669cbbee18ad9771f3"], "5e8918669cbbee18ad9771f3"),
        (["@/datasets/5e8918669cbbee18ad9771f3"], "5e8918669cbbee18ad9771f3"),
    ],
    ids=["id-etag", "items", "whole-run", "mapping-set", "catalog", "catalog-lower-case"],
)
def test_created_id_reads_every_documented_answer(body: Any, expected: str) -> None:
    assert created_id(body) == expected


@pytest.mark.parametrize("body", [{}, {"items": []}, [], None, {"etag": ETAG, "clientSecret": "hush"}])
def test_created_id_without_an_id_fails_without_echoing_values(body: Any) -> None:
    with pytest.raises(AEPError, match="has no id") as error:
        created_id(body)
    assert "hush" not in str(error.value)


def test_first_item_unwraps_items_or_takes_a_bare_object() -> None:
    flow = {"id": "993f908f-3342-4d9c-9f3c-5aa9a189ca1a", "state": "enabled"}
    assert first_item({"items": [flow, {"id": "other"}]}) == flow
    assert first_item(flow) == flow


@pytest.mark.parametrize("body", [{"items": []}, ["@/dataSets/x"], None])
def test_first_item_refuses_nothing_or_a_non_object(body: Any) -> None:
    with pytest.raises(AEPError):
        first_item(body)


@pytest.mark.parametrize(
    "item",
    [
        {"id": "f", "inletUrl": "https://dcs.adobedc.net/collection/abc"},
        {"id": "f", "options": {"inletUrl": "https://dcs.adobedc.net/collection/abc"}},
        {
            "id": "c",
            "auth": {
                "specName": "Streaming Connection",
                "params": {"inletUrl": "https://dcs.adobedc.net/collection/abc"},
            },
        },
        {"items": [{"id": "f", "inletUrl": "https://dcs.adobedc.net/collection/abc"}]},
    ],
    ids=["flow", "flow-options", "http-api-base-connection", "wrapped"],
)
def test_inlet_url_reads_every_documented_place(item: Any) -> None:
    assert inlet_url(item) == "https://dcs.adobedc.net/collection/abc"


@pytest.mark.parametrize("item", [{"id": "f"}, {"options": {}}, {"items": []}, None, {"inletUrl": ""}])
def test_inlet_url_is_none_when_absent(item: Any) -> None:
    assert inlet_url(item) is None


def test_etag_keeps_its_quotes() -> None:
    assert etag({"id": "f", "etag": ETAG}) == ETAG
    assert etag({"items": [{"id": "f", "etag": ETAG}]}) == ETAG
    assert etag({"id": "f"}) is None
    assert etag({"items": []}) is None


def test_schema_id_reads_dollar_id() -> None:
    body = {"$id": "https://ns.adobe.com/acme/schemas/14d89c5b", "meta:altId": "_acme.schemas.14d89c5b"}
    assert schema_id(body) == "https://ns.adobe.com/acme/schemas/14d89c5b"
    with pytest.raises(AEPError, match=r"no \$id"):
        schema_id({"meta:altId": "_acme.schemas.14d89c5b"})
