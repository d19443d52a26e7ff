"""Never a 500: every operation of every spec the emulator serves, fed a fixed set of malformed input.

Driven by Adobe's specs in ``tests/adobe/specs``: for each operation whose path the emulator routes,

* odd path ids (very long, unicode, ``%00``, ``..``...) and odd query values: any answer but a 5xx;
* on write operations, bodies that are not JSON (bad syntax, bytes that are not UTF-8, NaN, a lone
  surrogate, absurd nesting or numbers), JSON of the wrong kind (an array where the spec wants an
  object...), an empty object where the spec requires fields, and, for each create, each top-level
  field of the spec's request schema set to a value of the wrong JSON type: a 400 in the service's own
  error shape.

Deterministic: the inputs are fixed lists; resources the operations need exist (real ids), so the
handlers run past their 404s.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from .platform import CATALOG, CONVERSION, CRM_TO_AEP, FLOW, PAYPAL_SPEC, SCHEMAS, XED_FULL, PlatformClient
from .spec_operations import Operation, operations

# spec file -> (gateway path of the service, the ``type`` family of its error bodies, operations routed)
SERVICES = {
    "flow-service.yaml": (FLOW, "FLOW-", 28),
    "catalog.yaml": (CATALOG, "CAT-", 6),
    "schema-registry.yaml": (SCHEMAS, "XDM-", 9),
    "data-prep.yaml": (CONVERSION, "MAPPER-", 3),
    "streaming-ingestion.yaml": ("", "DCS-", 2),
}
ODD_IDS = [
    "x" * 2000,
    "ünïcødé-✓-名前",
    "%00",
    "..",
    "%2E%2E",
    "a%2Fb",
    "'\"<>`{}",
    "%ZZ",
    "-1",
    "null",
    "%E2%80%8B",
]
ODD_QUERY_VALUES = [
    "",
    "0",
    "-1",
    "abc",
    "9" * 40,
    "1e309",
    "\x00",
    "ünï✓",
    "==",
    "!",
    ",",
    '"',
    "[]",
    "a==b,,c",
]
NOT_JSON = [
    b'{"name": ',
    b"\xff\xfe",
    b'{"name": "\xff"}',
    b"{} trailing",
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 300 + b"1" + b"}" * 300,
    b'{"name": NaN}',
    b'{"name": 1e999}',
    b'{"name": "\\ud800"}',
    b'{"name": 1' + b"0" * 5000 + b"}",
]
WRONG_KIND = {
    "object": [b"[]", b"[{}]", b"1", b'"text"', b"true"],
    "array": [b"{}", b"1", b'"text"', b"true"],
}
# Streaming inlets serve webhook sources, which post their own event payload (Shopify's, seed 000): an
# object or an array of them, stored as it is. Only what is not JSON, or a bare scalar, is refused there.
# The batch endpoint takes {"messages": [at least one]} and nothing else.
WEBHOOK_SPEC = "streaming-ingestion.yaml"
SCALARS = [b"1", b'"text"', b"true", b"null"]
NOT_A_BATCH = [b"[]", b"[{}]", b"{}", b'{"messages": 1}', b'{"messages": {}}', b'{"messages": []}', b""]
WRONG_VALUES: dict[str, list[Any]] = {
    "string": [12345, {"a": 1}],
    "object": ["text", []],
    "array": ["text", {}],
    "integer": ["text", 1.5],
    "number": ["text"],
    "boolean": ["text", 1],
}


XDM_RECORD = "https://ns.adobe.com/xdm/data/record"


class Fuzzer:
    """Sends fuzz requests with the Platform headers and collects every answer that breaks a rule.

    :param aep: the client (token and headers).
    :param ids: path parameter name -> the id of an existing resource.
    :param bodies: ``METHOD template`` -> a valid body, for each create the emulator routes.
    """

    def __init__(self, aep: PlatformClient, ids: dict[str, str], bodies: dict[str, dict[str, Any]]) -> None:
        self.aep = aep
        self.ids = ids
        self.bodies = bodies
        self.etags: dict[str, str] = {}
        self.failures: list[str] = []
        self.sent = 0

    def send(self, method: str, path: str, content: bytes | None = None, **params: str) -> httpx.Response:
        """One request; a ``PATCH`` of a Flow Service resource carries its current ``If-Match``."""
        headers = self.aep.headers(Accept=XED_FULL)
        if method == "PATCH" and path.startswith(FLOW):
            if path not in self.etags:
                found = self.aep.request("GET", path)
                self.etags[path] = found.json()["items"][0]["etag"] if found.status_code == 200 else ""
            headers["If-Match"] = self.etags[path]
        if content is not None:
            headers["Content-Type"] = "application/json"
        self.sent += 1
        return self.aep.http.request(method, path, content=content, params=params, headers=headers)

    def expect(self, answer: httpx.Response, what: str, family: str | None = None) -> None:
        """No 5xx; with ``family``: a 400 whose error ``type`` names the service (``FLOW-``...)."""
        if answer.status_code >= 500:
            self.failures.append(f"{what}: {answer.status_code} {answer.text[:200]}")
        elif family is not None:
            error_type = _error_type(answer)
            if answer.status_code != 400 or family not in error_type:
                self.failures.append(
                    f"{what}: wanted a 400 {family}..., got {answer.status_code} {answer.text[:200]}"
                )


def _error_type(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def _routed(fuzzer: Fuzzer, operation: Operation) -> bool:
    """Whether the emulator routes ``operation``: anything but the gateway's unknown-path answers."""
    answer = fuzzer.send(operation.method, operation.path({"CONTAINER_ID": "tenant"}, "fuzz-probe"))
    gateway_codes = {"404050", "405050"}
    try:
        unknown = answer.json().get("error_code") in gateway_codes
    except (ValueError, AttributeError):
        unknown = False
    return not unknown


@pytest.fixture
def fuzzer(aep: PlatformClient, batch_setup: dict[str, str]) -> Fuzzer:
    flow = aep.once_flow(batch_setup)
    today = int(time.time()) // 86400 * 86400
    run_params = {
        "startTime": today,
        "windowStartTime": today - 86400,
        "windowEndTime": today,
        "deltaColumn": {"name": "Update_Time"},
    }
    run = aep.created_id("POST", f"{FLOW}/runs", {"flowId": flow, "params": run_params})
    klass = aep.created_id(
        "POST", f"{SCHEMAS}/tenant/classes", {"title": "Fuzz base class", "allOf": [{"$ref": XDM_RECORD}]}
    )
    schema_alt_id = "_emulatortenant.schemas." + batch_setup["schema"].rsplit("/", 1)[1]
    ids = {
        "CONTAINER_ID": "tenant",
        "BASE_CONNECTION_ID": batch_setup["base"],
        "SOURCE_CONNECTION_ID": batch_setup["source"],
        "TARGET_CONNECTION_ID": batch_setup["target"],
        "FLOW_ID": flow,
        "RUN_ID": run,
        "FLOW_SPEC_ID": CRM_TO_AEP,
        "CONNECTION_SPEC_ID": PAYPAL_SPEC,
        "DATASET_ID": batch_setup["dataset"],
        "id": batch_setup["dataset"],
        "SCHEMA_ID": schema_alt_id,
        "CLASS_ID": klass,
        "MAPPING_SET_ID": batch_setup["mapping"],
        "CONNECTION_ID": "0" * 64,
    }
    return Fuzzer(aep, ids, _create_bodies(batch_setup, flow, run_params))


def _create_bodies(setup: dict[str, str], flow: str, run_params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A valid body for each create the emulator routes, keyed by ``METHOD template``."""
    paypal_auth = {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {"host": "h", "clientId": "c", "clientSecret": "s"},
    }
    spec = {"id": PAYPAL_SPEC, "version": "1.0"}
    lake = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
    return {
        f"POST {FLOW}/connections": {"name": "fuzz", "auth": paypal_auth, "connectionSpec": spec},
        f"POST {FLOW}/sourceConnections": {
            "name": "fuzz",
            "baseConnectionId": setup["base"],
            "data": {"format": "tabular"},
            "params": {"tableName": "PayPal.Catalog_Products"},
            "connectionSpec": spec,
        },
        f"POST {FLOW}/targetConnections": {
            "name": "fuzz",
            "data": {"schema": {"id": setup["schema"], "version": XED_FULL}},
            "params": {"dataSetId": setup["dataset"]},
            "connectionSpec": lake,
        },
        f"POST {FLOW}/flows": {
            "name": "fuzz",
            "flowSpec": {"id": CRM_TO_AEP, "version": "1.0"},
            "sourceConnectionIds": [setup["source"]],
            "targetConnectionIds": [setup["target"]],
            "transformations": [{"name": "Mapping", "params": {"mappingId": setup["mapping"]}}],
            "scheduleParams": {"startTime": 4102444800, "frequency": "once"},
        },
        f"POST {FLOW}/runs": {"flowId": flow, "params": run_params},
        f"POST {CATALOG}/dataSets": {
            "name": "fuzz",
            "schemaRef": {"id": setup["schema"], "contentType": XED_FULL},
        },
        f"POST {SCHEMAS}/tenant/schemas": {
            "type": "object",
            "title": "Fuzz schema",
            "description": "fuzz",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
        f"POST {SCHEMAS}/tenant/classes": {
            "type": "object",
            "title": "Fuzz class",
            "description": "fuzz",
            "allOf": [{"$ref": XDM_RECORD}],
        },
        f"POST {CONVERSION}/mappingSets": {
            "outputSchema": {"schemaRef": {"id": setup["schema"], "contentType": XED_FULL}},
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "a", "destination": "b"}],
        },
    }


def _routed_operations(fuzzer: Fuzzer, spec_file: str) -> list[Operation]:
    prefix, _, expected = SERVICES[spec_file]
    routed = [operation for operation in operations(spec_file, prefix) if _routed(fuzzer, operation)]
    # A routing regression must not pass as "not routed": the count is pinned.
    assert len(routed) == expected, [str(operation) for operation in routed]
    return routed


def _report(fuzzer: Fuzzer) -> None:
    assert not fuzzer.failures, (
        f"{len(fuzzer.failures)} of {fuzzer.sent} answers broke a rule:\n" + "\n".join(fuzzer.failures)
    )


@pytest.mark.parametrize("spec_file", list(SERVICES))
def test_odd_ids_and_query_values_never_get_a_5xx(fuzzer: Fuzzer, spec_file: str) -> None:
    for operation in _routed_operations(fuzzer, spec_file):
        body = b"{}" if operation.method in ("POST", "PUT", "PATCH") else None
        for odd in ODD_IDS:
            if operation.path_params:
                answer = fuzzer.send(operation.method, operation.path({"CONTAINER_ID": "tenant"}, odd), body)
                fuzzer.expect(answer, f"{operation} with id {odd[:20]!r}")
        if operation.method == "DELETE":
            continue  # with real ids it would delete what the other cases need
        for name in operation.query:
            for value in ODD_QUERY_VALUES:
                answer = fuzzer.send(
                    operation.method, operation.path(fuzzer.ids, "fuzz"), body, **{name: value}
                )
                fuzzer.expect(answer, f"{operation} with {name}={value[:20]!r}")
    _report(fuzzer)


@pytest.mark.parametrize("spec_file", list(SERVICES))
def test_malformed_bodies_get_the_services_own_400(fuzzer: Fuzzer, spec_file: str) -> None:
    family = SERVICES[spec_file][1]
    writes = [op for op in _routed_operations(fuzzer, spec_file) if op.method in ("POST", "PUT", "PATCH")]
    assert writes
    for operation in writes:
        path = operation.path(fuzzer.ids, "fuzz")
        for content in _malformed_bodies(operation):
            answer = fuzzer.send(operation.method, path, content)
            fuzzer.expect(answer, f"{operation} with body {content[:30]!r}", family)
    _report(fuzzer)


def _malformed_bodies(operation: Operation) -> list[bytes]:
    """Bodies ``operation`` must refuse: not JSON, the wrong kind, no required field, none at all."""
    shape = operation.body
    if operation.spec == WEBHOOK_SPEC:
        return NOT_JSON + SCALARS + (NOT_A_BATCH if "/batch/" in operation.template else [])
    cases = list(NOT_JSON)
    if shape is not None:
        cases += WRONG_KIND.get(shape.kind, [])
        if shape.kind == "object" and shape.required:
            cases.append(b"{}")
        if shape.mandatory:
            cases.append(b"")
    return cases


@pytest.mark.parametrize("spec_file", [name for name in SERVICES if name != WEBHOOK_SPEC])
def test_each_field_of_the_wrong_type_is_refused_by_every_create(fuzzer: Fuzzer, spec_file: str) -> None:
    family = SERVICES[spec_file][1]
    bodies = fuzzer.bodies
    creates = [
        op for op in _routed_operations(fuzzer, spec_file) if op.method == "POST" and "{" not in op.template
    ]
    assert creates
    assert all(str(op) in bodies for op in creates), [str(op) for op in creates]
    for operation in creates:
        base = bodies[str(operation)]
        assert operation.body is not None, str(operation)
        assert operation.body.fields, str(operation)
        for name, json_type in operation.body.fields.items():
            for wrong in WRONG_VALUES[json_type]:
                content = json.dumps({**base, name: wrong}).encode()
                fuzzer.expect(
                    fuzzer.send("POST", operation.template, content), f"{operation} {name}={wrong!r}", family
                )
        # The untouched body is valid: the refusals above were about the one wrong field.
        created = fuzzer.send("POST", operation.template, json.dumps(base).encode())
        assert created.status_code in (200, 201), f"{operation}: {created.text}"
    _report(fuzzer)


def test_json_patches_that_would_break_a_resource_are_refused(fuzzer: Fuzzer) -> None:
    patches: list[Any] = [
        [],
        [1],
        [{"op": 1, "path": "/name"}],
        [{"op": "replace"}],
        [{"op": "replace", "path": 5, "value": 1}],
        [{"op": "move", "from": "/name", "path": "/description"}],
        [{"op": "replace", "path": "/name", "value": 5}],
        [{"op": "replace", "path": "/name", "value": {"nested": True}}],
        [{"op": "replace", "path": "/id", "value": "other"}],
        [{"op": "remove", "path": "/connectionSpec"}],
        [{"op": "remove", "path": "/flowSpec"}],
        [{"op": "replace", "path": "/flowSpec", "value": "text"}],
        [{"op": "replace", "path": "/sourceConnectionIds", "value": "text"}],
        [{"op": "remove", "path": "/nothing/here"}],
        [{"op": "replace", "path": "/name/0/x", "value": 1}],
    ]
    items = {
        "connections": fuzzer.ids["BASE_CONNECTION_ID"],
        "sourceConnections": fuzzer.ids["SOURCE_CONNECTION_ID"],
        "targetConnections": fuzzer.ids["TARGET_CONNECTION_ID"],
        "flows": fuzzer.ids["FLOW_ID"],
    }
    for kind, resource_id in items.items():
        path = f"{FLOW}/{kind}/{resource_id}"
        for patch in patches:
            answer = fuzzer.send("PATCH", path, json.dumps(patch).encode())
            fuzzer.expect(answer, f"PATCH {kind} {patch}", "FLOW-")
    _report(fuzzer)
