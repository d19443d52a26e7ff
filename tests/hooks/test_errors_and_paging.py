"""Error parsing, retry arithmetic and list reading: the decisions the hooks make without I/O, and
list paging over real HTTP against the emulator."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import (
    AEPApiError,
    AEPAuthError,
    AEPBadRequestError,
    AEPConflictError,
    AEPNotFoundError,
    AEPRateLimitError,
    AEPServerError,
)
from airflow_provider_aep.hooks._core import TOKENS, AccessToken, RetryPolicy, parse_retry_after
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.hooks.paging import property_filter, quote_value, read_page, single_item

FLOW_404 = """{"type": "https://ns.adobe.com/aep/errors/FLOW-1439-404", "title": "Resource not found",
 "status": 404, "report": {"detailed-message": "Flow with id abc not found", "id": "x",
 "request-id": "req-123", "type": "flows"}}"""
XDM_400 = """{"type": "http://ns.adobe.com/aep/errors/XDM-1521-400", "title": "Title not unique",
 "status": 400, "report": {"registryRequestId": "r"}, "detail": "The title Payments is already used"}"""
GATEWAY_401 = '{"error_code": "401013", "message": "Oauth token is not valid"}'
IMS_400 = '{"error": "invalid_client", "error_description": "invalid client_secret parameter"}'


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "title", "detail", "request_id"),
    [
        (
            404,
            FLOW_404,
            AEPNotFoundError,
            "FLOW-1439-404",
            "Resource not found",
            "Flow with id abc not found",
            "req-123",
        ),
        (
            400,
            XDM_400,
            AEPBadRequestError,
            "XDM-1521-400",
            "Title not unique",
            "The title Payments is already used",
            None,
        ),
        (401, GATEWAY_401, AEPAuthError, "401013", "Oauth token is not valid", None, None),
        (400, IMS_400, AEPBadRequestError, "invalid_client", "invalid client_secret parameter", None, None),
        (
            412,
            '{"title": "Version mismatch", "status": 412}',
            AEPConflictError,
            None,
            "Version mismatch",
            None,
            None,
        ),
        (429, "", AEPRateLimitError, None, None, None, None),
        (
            503,
            "<html>Service Unavailable</html>",
            AEPServerError,
            None,
            None,
            "<html>Service Unavailable</html>",
            None,
        ),
    ],
)
def test_every_documented_error_body_becomes_a_typed_error(
    status: int,
    body: str,
    cls: type[AEPApiError],
    code: str | None,
    title: str | None,
    detail: str | None,
    request_id: str | None,
) -> None:
    error = AEPApiError.from_response(
        status, body, method="GET", url="/data/foundation/flowservice/flows/abc"
    )
    assert type(error) is cls
    assert (error.status, error.code, error.title, error.detail, error.request_id) == (
        status,
        code,
        title,
        detail,
        request_id,
    )
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"GET /data/foundation/flowservice/flows/abc: AEP answered {status}")
    if code:
        assert code in message


def test_request_id_falls_back_to_the_header() -> None:
    error = AEPApiError.from_response(500, "{}", headers={"x-request-id": "hdr-1"})
    assert error.request_id == "hdr-1"
    assert "hdr-1" in str(error)


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=8)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > 0  # jitter: concurrent workers do not retry in step
    assert policy.delay(1, "12") == 12.0


def test_token_is_renewed_a_safe_margin_before_expiry() -> None:
    day = AccessToken.from_ims_answer({"access_token": "tok-SECRET", "expires_in": 86399}, now=0)
    assert day.renew_at == 86399 - 600
    short = AccessToken.from_ims_answer({"access_token": "t", "expires_in": 60}, now=0)
    assert short.renew_at == 54
    millis = AccessToken.from_ims_answer({"access_token": "t", "expires_in": 86399000}, now=0)
    assert millis.expires_at == pytest.approx(86399)
    assert "tok-SECRET" not in repr(day)


def test_read_page_understands_the_three_list_shapes() -> None:
    flow_page = read_page(
        {"items": [{"id": "a"}], "_links": {"next": {"href": "/flows?continuationToken=x"}}}, "/flows", None
    )
    assert flow_page.items == [{"id": "a"}]
    assert flow_page.next_path == "/flows?continuationToken=x"
    assert read_page({"items": [{"id": "b"}], "_links": {}}, "/flows", None).next_path is None

    registry = read_page(
        {"results": [{"$id": "s"}], "_page": {"count": 1}, "_links": {}}, "/tenant/schemas", None
    )
    assert registry.items == [{"$id": "s"}]

    full = {f"id{i}": {"name": f"d{i}"} for i in range(2)}
    catalog = read_page(full, "/dataSets", {"limit": 2})
    assert catalog.items[0] == {"id": "id0", "name": "d0"}
    assert catalog.next_params == [("limit", 2), ("start", 2)]
    # Catalog may answer fewer objects than the limit asked for, so only an empty page ends a list.
    assert read_page({}, "/dataSets", {"limit": 2, "start": 3}).next_path is None


def test_catalog_pages_by_what_came_back_not_by_an_assumed_size() -> None:
    twenty = {f"id{i}": {"name": f"d{i}"} for i in range(20)}
    first = read_page(twenty, "/dataSets", None)
    assert (first.next_path, first.next_params) == ("/dataSets", [("start", 20)])
    short = read_page({"id40": {"name": "x"}}, "/dataSets", {"start": 40, "limit": 100})
    assert (short.next_path, short.next_params) == ("/dataSets", [("limit", 100), ("start", 41)])
    assert read_page({}, "/dataSets", {"start": 41, "limit": 100}).next_path is None


def test_schema_registry_pages_by_page_next_and_data_prep_by_offset() -> None:
    registry = read_page(
        {"results": [{"title": "b"}], "_page": {"orderby": "title", "next": "b", "count": 1}, "_links": {}},
        "/tenant/schemas",
        {"limit": 1},
    )
    assert registry.next_params == [("limit", 1), ("start", "b"), ("orderby", "title")]
    last = {"results": [{"title": "c"}], "_page": {"orderby": "title", "next": None, "count": 1}}
    assert read_page(last, "/tenant/schemas", {"start": "b"}).next_path is None
    linked = {"results": [], "_page": {"next": "x"}, "_links": {"next": {"href": "/tenant/schemas?start=x"}}}
    assert read_page(linked, "/tenant/schemas", None).next_path == "/tenant/schemas?start=x"

    mapping_sets = read_page(
        {"data": [{"id": "m1"}], "_page": {"count": 1, "limit": 10}}, "/mappingSets", None
    )
    assert (mapping_sets.items, mapping_sets.next_params) == ([{"id": "m1"}], [("start", 1)])
    assert read_page({"data": [], "_page": {"count": 0}}, "/mappingSets", {"start": 1}).next_path is None


def test_the_next_page_keeps_every_repeated_filter() -> None:
    """``property=`` filters repeat (ANDed): a continuation must send each of them again."""
    query = [("property", "name==a"), ("property", "state==enabled"), ("limit", 2)]
    page = read_page({"x": {"name": "a"}, "y": {"name": "a"}}, "/dataSets", query)
    assert page.next_params == [
        ("property", "name==a"),
        ("property", "state==enabled"),
        ("limit", 2),
        ("start", 2),
    ]
    as_dict = read_page({"x": {}}, "/dataSets", {"property": ["a==1", "b==2"]})
    assert as_dict.next_params == [("property", "a==1"), ("property", "b==2"), ("start", 1)]


def test_single_item_unwraps_each_service() -> None:
    assert single_item({"items": [{"id": "f"}]}, "/flows/f") == {"id": "f"}
    assert single_item({"ds1": {"name": "n"}}, "/dataSets/ds1") == {"id": "ds1", "name": "n"}
    assert single_item({"$id": "https://ns.adobe.com/t/schemas/1", "title": "x"}, "/s")["title"] == "x"
    with pytest.raises(AEPNotFoundError):
        single_item({"items": []}, "/flows/f")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CRMToAEP", "CRMToAEP"),
        ("PayPal source connection", '"PayPal source connection"'),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("x==y", '"x==y"'),
        (True, "true"),
    ],
)
def test_filter_values_are_quoted_when_they_could_change_the_filter(value: object, expected: str) -> None:
    assert quote_value(value) == expected


def test_property_filter_builds_or_lists_and_rejects_injection() -> None:
    assert property_filter("flowId", ["a", "b"]) == "flowId==a,b"
    assert (
        property_filter("metrics.statusSummary.status", "failed", "!=")
        == "metrics.statusSummary.status!=failed"
    )
    with pytest.raises(ValueError, match="operator"):
        property_filter("name", "x", "=~")
    with pytest.raises(ValueError, match="property name"):
        property_filter("name==x&orderby", "y")


@pytest.fixture
def hook(aep_env: RunningEmulator) -> Iterator[AEPHook]:
    TOKENS.clear()
    with AEPHook(retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)) as h:
        yield h
    TOKENS.clear()


def test_every_dataset_comes_back_with_no_filter_and_no_limit(
    aep_env: RunningEmulator, hook: AEPHook
) -> None:
    schema = hook.post(
        "schemaregistry",
        "/tenant/schemas",
        json={
            "type": "object",
            "title": "Paging",
            "description": "Paging",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )["$id"]
    created = {
        hook.post("catalog", "/dataSets", json={"name": f"paging {n}", "schemaRef": {"id": schema}})[
            0
        ].rsplit("/", 1)[1]
        for n in range(45)
    }
    listed = [item["id"] for item in hook.iter_items("catalog", "/dataSets")]
    assert sorted(listed) == sorted(created)
    pages = [r for r in aep_env.requests() if r["method"] == "GET" and r["path"].endswith("/dataSets")]
    # The emulator answers at most 20 a page, as Catalog does with no limit: 20 + 20 + 5, then an empty page.
    assert [r["query"] for r in pages] == ["", "start=20", "start=40", "start=45"]
