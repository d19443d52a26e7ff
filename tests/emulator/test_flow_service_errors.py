"""The Flow Service error codes Adobe documents, reproduced for bad input."""

from __future__ import annotations

from typing import Any

import pytest

from .platform import FLOW, PlatformClient


def _code(answer: Any) -> str:
    return str(answer.json()["type"]).rsplit("FLOW-", 1)[1]


def test_state_on_create_is_1410(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    body = aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "once"})
    answer = aep.request("POST", f"{FLOW}/flows", {**body, "state": "enabled"})
    assert answer.status_code == 400
    assert _code(answer) == "1410-400"
    report = answer.json()["report"]
    assert report["request-id"] == answer.headers["x-request-id"]
    assert answer.json()["title"]


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ({"startTime": "1567411548", "frequency": "minute", "interval": "10"}, "minimum"),
        ({"startTime": 1567411548, "frequency": "hour"}, "interval"),
        ({"startTime": 1567411548, "frequency": "once", "interval": 1}, "interval"),
        ({"startTime": 1567411548, "frequency": "fortnight", "interval": 1}, "frequency"),
        ({"frequency": "day", "interval": 1}, "startTime"),
    ],
)
def test_bad_schedules_fail_the_flow_specs_own_schema(
    aep: PlatformClient, batch_setup: dict[str, str], schedule: dict[str, Any], reason: str
) -> None:
    answer = aep.request("POST", f"{FLOW}/flows", aep.flow_body(batch_setup, schedule))
    assert answer.status_code == 400
    assert reason in answer.json()["report"]["detailed-message"]


def test_numbers_as_strings_are_accepted(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    schedule = {"startTime": "1567411548", "frequency": "minute", "interval": "15"}
    assert aep.request("POST", f"{FLOW}/flows", aep.flow_body(batch_setup, schedule)).status_code == 201


@pytest.mark.parametrize("field", ["sourceConnectionIds", "targetConnectionIds"])
def test_unknown_connections_are_rejected(
    aep: PlatformClient, batch_setup: dict[str, str], field: str
) -> None:
    body = aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "once"})
    body[field] = ["00000000-0000-0000-0000-000000000000"]
    answer = aep.request("POST", f"{FLOW}/flows", body)
    assert answer.status_code == 400
    assert "not found" in answer.json()["report"]["detailed-message"]


def test_unknown_mapping_flow_spec_dataset_schema_and_base_are_rejected(
    aep: PlatformClient, batch_setup: dict[str, str]
) -> None:
    body = aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "once"})
    body["transformations"][1]["params"]["mappingId"] = "0" * 32
    assert aep.request("POST", f"{FLOW}/flows", body).status_code == 400
    body = aep.flow_body(batch_setup, None)
    body["flowSpec"]["id"] = "11111111-1111-1111-1111-111111111111"
    assert aep.request("POST", f"{FLOW}/flows", body).status_code == 400
    target = {
        "name": "t",
        "data": {"schema": {"id": batch_setup["schema"]}},
        "params": {"dataSetId": "000000000000000000000000"},
        "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"},
    }
    assert aep.request("POST", f"{FLOW}/targetConnections", target).status_code == 400
    target["params"] = {"dataSetId": batch_setup["dataset"]}
    target["data"] = {"schema": {"id": "https://ns.adobe.com/emulatortenant/schemas/missing"}}
    assert aep.request("POST", f"{FLOW}/targetConnections", target).status_code == 400
    source = {
        "name": "s",
        "baseConnectionId": "00000000-0000-0000-0000-000000000000",
        "data": {"format": "tabular"},
        "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
    }
    assert aep.request("POST", f"{FLOW}/sourceConnections", source).status_code == 400
    connection = {
        "name": "c",
        "connectionSpec": {"id": "22222222-2222-2222-2222-222222222222", "version": "1.0"},
    }
    assert aep.request("POST", f"{FLOW}/connections", connection).status_code == 400


def test_patch_needs_if_match_and_a_current_etag(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.once_flow(batch_setup)
    patch = [{"op": "Replace", "path": "/name", "value": "Renamed"}]
    missing = aep.request("PATCH", f"{FLOW}/flows/{flow_id}", patch)
    assert missing.status_code == 400
    assert _code(missing) == "1403-400"
    etag = aep.item(f"{FLOW}/flows/{flow_id}")["etag"]
    updated = aep.request("PATCH", f"{FLOW}/flows/{flow_id}", patch, headers={"If-Match": etag})
    assert updated.status_code == 200
    new_etag = updated.json()["etag"]
    assert new_etag != etag
    assert aep.item(f"{FLOW}/flows/{flow_id}")["name"] == "Renamed"
    stale = aep.request("PATCH", f"{FLOW}/flows/{flow_id}", patch, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert _code(stale) == "1404-412"
    unquoted = aep.request(
        "PATCH", f"{FLOW}/flows/{flow_id}", patch, headers={"If-Match": new_etag.strip('"')}
    )
    assert unquoted.status_code == 412


def test_patch_ops_any_case_and_move_is_1434(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.once_flow(batch_setup)
    etag = aep.item(f"{FLOW}/flows/{flow_id}")["etag"]
    move = [{"op": "move", "from": "/name", "path": "/description"}]
    answer = aep.request("PATCH", f"{FLOW}/flows/{flow_id}", move, headers={"If-Match": etag})
    assert _code(answer) == "1434-400"
    add = [{"op": "ADD", "path": "/description", "value": "added"}]
    answer = aep.request("PATCH", f"{FLOW}/flows/{flow_id}", add, headers={"If-Match": etag})
    assert answer.status_code == 200
    remove = [{"op": "remove", "path": "/description"}]
    answer = aep.request(
        "PATCH", f"{FLOW}/flows/{flow_id}", remove, headers={"If-Match": answer.json()["etag"]}
    )
    assert answer.status_code == 200
    assert "description" not in aep.item(f"{FLOW}/flows/{flow_id}")


def test_patched_schedule_is_revalidated(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.created_id(
        "POST",
        f"{FLOW}/flows",
        aep.flow_body(batch_setup, {"startTime": 1567411548, "frequency": "minute", "interval": 15}),
    )
    etag = aep.item(f"{FLOW}/flows/{flow_id}")["etag"]
    bad = [{"op": "replace", "path": "/scheduleParams/interval", "value": "5"}]
    assert aep.request("PATCH", f"{FLOW}/flows/{flow_id}", bad, headers={"If-Match": etag}).status_code == 400


def test_delete_base_connection_in_use_is_1418(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    flow_id = aep.once_flow(batch_setup)
    answer = aep.request("DELETE", f"{FLOW}/connections/{batch_setup['base']}")
    assert answer.status_code == 400
    assert _code(answer) == "1418-400"
    assert aep.request("DELETE", f"{FLOW}/flows/{flow_id}").status_code == 204
    gone = aep.request("GET", f"{FLOW}/flows/{flow_id}")
    assert gone.status_code == 404
    assert _code(gone) == "1439-404"
    assert aep.request("DELETE", f"{FLOW}/connections/{batch_setup['base']}").status_code == 204


def test_enable_disable_actions_change_state_and_etag(
    aep: PlatformClient, batch_setup: dict[str, str]
) -> None:
    flow_id = aep.once_flow(batch_setup)
    before = aep.item(f"{FLOW}/flows/{flow_id}")
    answer = aep.request("POST", f"{FLOW}/flows/{flow_id}/action", params={"op": "DISABLE"})
    assert answer.status_code == 200
    after = aep.item(f"{FLOW}/flows/{flow_id}")
    assert after["state"] == "disabled"
    assert after["etag"] != before["etag"]
    aep.request("POST", f"{FLOW}/flows/{flow_id}/action", params={"op": "enable"})
    assert aep.item(f"{FLOW}/flows/{flow_id}")["state"] == "enabled"
    assert aep.request("POST", f"{FLOW}/flows/{flow_id}/action", params={"op": "explode"}).status_code == 400


def test_secrets_in_auth_params_are_masked(aep: PlatformClient, batch_setup: dict[str, str]) -> None:
    connection = aep.item(f"{FLOW}/connections/{batch_setup['base']}")
    assert connection["auth"]["params"] == {
        "host": "api-m.sandbox.paypal.com",
        "clientId": "pp-client",
        "clientSecret": "****",
    }
    listed = aep.request("GET", f"{FLOW}/connections").text
    assert "pp-secret" not in listed
