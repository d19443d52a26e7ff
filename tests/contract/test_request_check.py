"""The request check passes requests Adobe's specs declare and names what is wrong with the others."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.request_check import Violation, check_request

FLOW = "/data/foundation/flowservice"
CATALOG = "/data/foundation/catalog"
SCHEMAS = "/data/foundation/schemaregistry"
CONVERSION = "/data/foundation/conversion"
FLOW_ID = "/flows/3abea21c-7e36-4be1-bea2-1c7e36abe1c2"
SCHEMA_ID = "https%3A%2F%2Fns.adobe.com%2Ftenant%2Fschemas%2Fabc123"
SCHEMA_REF = {
    "id": "https://ns.adobe.com/tenant/schemas/abc123",
    "contentType": "application/vnd.adobe.xed-full+json",
}


def request(method: str, path: str, body: Any = None, query: list[list[str]] | None = None) -> dict[str, Any]:
    """A record as the emulator's recorder writes it."""
    return {
        "method": method,
        "path": path,
        "query": query or [],
        "content_type": "application/json" if body is not None else None,
        "body": body,
        "body_is_json": body is not None,
        "body_bytes": 0 if body is None else 2,
    }


def problems(record: dict[str, Any]) -> set[tuple[str, str]]:
    return {(violation.where, violation.field) for violation in check_request(record)}


GOOD = {
    "list flows with a filter": request(
        "GET", f"{FLOW}/flows", query=[["property", 'name=="x"'], ["limit", "10"], ["continuationToken", "t"]]
    ),
    "on-demand run": request(
        "POST",
        f"{FLOW}/runs",
        {"flowId": "f", "params": {"startTime": 1, "windowStartTime": 0, "windowEndTime": 1}},
    ),
    "dataflow": request(
        "POST",
        f"{FLOW}/flows",
        {
            "name": "flow",
            "flowSpec": {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"},
            "sourceConnectionIds": ["s"],
            "targetConnectionIds": ["t"],
            "transformations": [{"name": "Mapping", "params": {"mappingId": "m", "mappingVersion": "0"}}],
            "scheduleParams": {"startTime": 1567411548, "frequency": "once"},
        },
    ),
    "base connection with its spec's own auth params": request(
        "POST",
        f"{FLOW}/connections",
        {
            "name": "PayPal",
            "auth": {"specName": "Client-Id-Secret Based Authentication", "params": {"clientId": "c"}},
            "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
        },
    ),
    "JSON Patch array on an account (the spec's single-object slip is fixed)": request(
        "PATCH", f"{FLOW}/connections/c1", [{"op": "REPLACE", "path": "/name", "value": "new name"}]
    ),
    "delete a dataflow": request("DELETE", f"{FLOW}{FLOW_ID}"),
    "schema by URL-encoded $id": request("GET", f"{SCHEMAS}/tenant/schemas/{SCHEMA_ID}"),
    "schema create": request(
        "POST",
        f"{SCHEMAS}/tenant/schemas",
        {"type": "object", "title": "t", "description": "d", "allOf": [{"$ref": "https://ns.adobe.com/x"}]},
    ),
    "dataset tags (additionalProperties declared)": request(
        "POST", f"{CATALOG}/dataSets", {"name": "d", "tags": {"adobe/pqs/table": ["t"]}}
    ),
    "current mapping set": request(
        "POST",
        f"{CONVERSION}/mappingSets",
        {
            "outputSchema": {
                "schemaRef": {"id": "https://ns.adobe.com/s", "contentType": "application/json"}
            },
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "a", "destination": "b"}],
        },
    ),
    "inlet message": request(
        "POST",
        "/collection/abc",
        {
            "header": {"schemaRef": SCHEMA_REF, "imsOrgId": "o", "datasetId": "d", "flowId": "f"},
            "body": {"xdmMeta": {"schemaRef": SCHEMA_REF}, "xdmEntity": {"_id": "1", "person": {}}},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_request_the_spec_declares_has_no_violation(name: str) -> None:
    assert check_request(GOOD[name]) == []


def test_an_unknown_path_is_a_violation() -> None:
    assert check_request(request("GET", f"{FLOW}/nothing")) == [
        Violation(f"GET {FLOW}/nothing", "path", "", "no spec has this path")
    ]


def test_an_unencoded_schema_id_in_a_path_is_an_unknown_path() -> None:
    assert problems(request("GET", f"{SCHEMAS}/tenant/schemas/https://ns.adobe.com/t/schemas/1")) == {
        ("path", "")
    }


def test_a_method_the_path_does_not_have_is_a_violation() -> None:
    [violation] = check_request(request("DELETE", f"{CONVERSION}/mappingSets/abc"))
    assert violation.operation == f"DELETE {CONVERSION}/mappingSets/{{MAPPING_SET_ID}}"
    assert (violation.where, violation.message) == ("method", "the spec allows only ['GET', 'PUT']")


def test_an_undeclared_query_parameter_is_a_violation() -> None:
    record = request("GET", f"{FLOW}/connectionSpecs", query=[["property", "name==x"], ["limit", "1"]])
    assert check_request(record) == [
        Violation(f"GET {FLOW}/connectionSpecs", "query", "limit", "not a declared query parameter")
    ]


def test_a_query_value_outside_the_declared_enum_is_a_violation() -> None:
    assert problems(request("POST", f"{FLOW}{FLOW_ID}/action", query=[["op", "explode"]])) == {
        ("query", "op")
    }
    assert problems(request("POST", f"{FLOW}{FLOW_ID}/action", query=[["op", "ENABLE"]])) == set()


def test_a_boolean_enum_is_written_true_or_false_in_a_query_string() -> None:
    def query_problems(value: str) -> set[tuple[str, str]]:
        record = request("POST", "/collection/0123", {}, query=[["syncValidation", value]])
        return {problem for problem in problems(record) if problem[0] == "query"}

    assert query_problems("true") == query_problems("false") == set()
    assert query_problems("True") == {("query", "syncValidation")}


def test_an_unknown_body_field_is_a_violation_at_any_depth() -> None:
    flow = dict(GOOD["dataflow"]["body"], state="enabled")
    assert problems(request("POST", f"{FLOW}/flows", flow)) == {("body", "state")}
    run = {"flowId": "f", "params": {"windowStartTime": 0, "deltaColumn": {"name": "u"}}}
    assert problems(request("POST", f"{FLOW}/runs", run)) == {("body", "params.deltaColumn")}
    mapping = {"mappings": [{"source": "a", "destination": "b", "sourceAttribute": "a"}]}
    assert problems(request("POST", f"{CONVERSION}/mappingSets", mapping)) == {
        ("body", "mappings[].sourceAttribute")
    }


def test_a_wrong_type_and_a_missing_required_field_are_violations() -> None:
    flow = GOOD["dataflow"]["body"]
    as_string = dict(flow, scheduleParams={"startTime": "1567411548", "frequency": "once"})
    [violation] = check_request(request("POST", f"{FLOW}/flows", as_string))
    assert (violation.field, violation.message) == (
        "scheduleParams.startTime",
        "'1567411548' is not of type 'integer'",
    )
    schema = {key: value for key, value in GOOD["schema create"]["body"].items() if key != "description"}
    [missing] = check_request(request("POST", f"{SCHEMAS}/tenant/schemas", schema))
    assert (missing.where, missing.field, missing.message) == (
        "body",
        "",
        "'description' is a required property",
    )


def test_bodies_where_the_spec_has_none_or_needs_one_are_violations() -> None:
    assert problems(request("DELETE", f"{FLOW}{FLOW_ID}", {"a": 1})) == {("body", "")}
    assert problems(request("POST", f"{FLOW}/flows")) == {("body", "")}
    not_json = dict(request("POST", f"{FLOW}/flows"), body_bytes=5)
    assert [violation.message for violation in check_request(not_json)] == ["the body is not JSON"]
