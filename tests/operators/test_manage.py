"""Update with etags, enable/disable, get, delete, if_exists, and a create retried after a refused POST."""

from __future__ import annotations

import logging
import re
from importlib.metadata import version

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPNotFoundError, AEPRedirectError
from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateDatasetOperator,
    AEPDeleteConnectionOperator,
    AEPDeleteDataflowOperator,
    AEPDeleteDatasetOperator,
    AEPDeleteSchemaOperator,
    AEPDisableDataflowOperator,
    AEPEnableDataflowOperator,
    AEPGetBaseConnectionOperator,
    AEPGetDataflowOperator,
    AEPResourceMismatchError,
    AEPUpdateBaseConnectionOperator,
    AEPUpdateDataflowOperator,
)
from tests.operators.helpers import run
from tests.operators.tutorials import TUTORIALS, Tutorial, shopify_streaming

FLOWS = "^/data/foundation/flowservice/flows/[^/]+$"


def _flow(aep: RunningEmulator, flow_id: str) -> dict[str, object]:
    return next(item for item in aep.state()["prod"]["flows"] if item["id"] == flow_id)


@pytest.fixture
def payments(aep: RunningEmulator) -> dict[str, str]:
    return TUTORIALS["001"](Tutorial("001"))


def rename(flow_id: str, name: str) -> AEPUpdateDataflowOperator:
    operations = [{"op": "replace", "path": "/name", "value": name}]
    return AEPUpdateDataflowOperator(task_id="rename", flow_id=flow_id, operations=operations)


def test_update_sends_the_etag_and_pushes_the_new_one(aep: RunningEmulator, payments: dict[str, str]) -> None:
    before = _flow(aep, payments["flow"])["etag"]
    result, pushed = run(rename(payments["flow"], "Renamed dataflow"))
    after = _flow(aep, payments["flow"])
    assert result == payments["flow"]
    assert after["name"] == "Renamed dataflow"
    assert pushed["etag"] == after["etag"] != before


def test_a_stale_etag_is_fetched_again_once(aep: RunningEmulator, payments: dict[str, str]) -> None:
    aep.add_faults([{"method": "PATCH", "path": FLOWS, "status": 412, "times": 1}])
    run(rename(payments["flow"], "Renamed after a 412"))
    assert _flow(aep, payments["flow"])["name"] == "Renamed after a 412"
    patches = [r["status"] for r in aep.requests() if r["method"] == "PATCH"]
    gets = [r for r in aep.requests() if r["method"] == "GET" and r["path"].endswith(payments["flow"])]
    assert patches == [412, 200]
    assert len(gets) == 2  # the etag was read again before the second PATCH


def test_a_persistent_conflict_fails_clearly(aep: RunningEmulator, payments: dict[str, str]) -> None:
    aep.add_faults([{"method": "PATCH", "path": FLOWS, "status": 412, "times": 5}])
    with pytest.raises(AEPResourceMismatchError, match="kept changing"):
        run(rename(payments["flow"], "never"))
    assert [r["status"] for r in aep.requests() if r["method"] == "PATCH"] == [412, 412]
    assert _flow(aep, payments["flow"])["name"] != "never"


def test_disable_then_enable(aep: RunningEmulator, payments: dict[str, str]) -> None:
    run(AEPDisableDataflowOperator(task_id="off", flow_id=payments["flow"]))
    assert _flow(aep, payments["flow"])["state"] == "disabled"
    _, pushed = run(AEPEnableDataflowOperator(task_id="on", flow_id=payments["flow"]))
    assert _flow(aep, payments["flow"])["state"] == "enabled"
    assert pushed["flow_id"] == payments["flow"]


def test_get_dataflow_returns_it_and_the_inlet_url_in_either_place(aep: RunningEmulator) -> None:
    aep.configure(inlet_url_location="options")
    tutorial = Tutorial("000")
    ids = shopify_streaming(tutorial, send_events=False)
    flow, pushed = run(AEPGetDataflowOperator(task_id="get", flow_id=ids["flow"]))
    assert flow["id"] == ids["flow"]
    assert pushed["inlet_url"] == flow["options"]["inletUrl"]
    assert pushed["etag"] == flow["etag"]


def test_update_account_rotates_credentials_from_the_airflow_connection(
    aep: RunningEmulator, payments: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAYPAL_ROTATED",
        '{"conn_type": "generic", "login": "new-client", "password": "rotated-secret-1", "host": "h"}',
    )
    operator = AEPUpdateBaseConnectionOperator(
        task_id="rotate",
        base_connection_id=payments["base"],
        source="paypal",
        source_conn_id="paypal_rotated",
        operations=[{"op": "replace", "path": "/description", "value": "rotated"}],
    )
    _, pushed = run(operator)
    account, _ = run(AEPGetBaseConnectionOperator(task_id="get", base_connection_id=payments["base"]))
    assert account["description"] == "rotated"
    assert account["auth"]["params"]["clientId"] == "new-client"
    assert "rotated-secret-1" not in str(account) + str(pushed)


def test_if_exists_fail_and_update(aep: RunningEmulator, payments: dict[str, str]) -> None:
    again = AEPCreateBaseConnectionOperator(
        task_id="b", name="PayPal account", source="paypal", source_conn_id="paypal_default", if_exists="fail"
    )
    with pytest.raises(AEPResourceMismatchError, match="already exists"):
        run(again)
    update = AEPCreateBaseConnectionOperator(
        task_id="b",
        name="PayPal account",
        description="new description",
        source="paypal",
        source_conn_id="paypal_default",
        if_exists="update",
    )
    result, _ = run(update)
    assert result == payments["base"]
    accounts = aep.state()["prod"]["connections"]
    assert [a["description"] for a in accounts] == ["new description"]


def test_same_name_but_another_schema_is_not_reused(aep: RunningEmulator, payments: dict[str, str]) -> None:
    name = "Target dataset for PayPal source connection"
    other = AEPCreateDatasetOperator(task_id="d", name=name, schema_id="https://ns.adobe.com/x/schemas/other")
    with pytest.raises(AEPResourceMismatchError, match=r"schemaRef\.id"):
        run(other)


def test_a_refused_create_is_repeated_after_a_look_up(aep: RunningEmulator) -> None:
    aep.add_faults([{"method": "POST", "path": "^/data/foundation/flowservice/connections$", "status": 503}])
    operator = AEPCreateBaseConnectionOperator(
        task_id="b", name="acct", source="paypal", source_conn_id="paypal_default", create_retry_delay=0.01
    )
    result, pushed = run(operator)
    statuses = [r["status"] for r in aep.requests() if r["method"] == "POST" and "connections" in r["path"]]
    assert statuses == [503, 201]
    assert pushed["created"] is True
    assert [a["id"] for a in aep.state()["prod"]["connections"]] == [result]


def test_teardown_deletes_everything_and_tolerates_missing(
    aep: RunningEmulator, payments: dict[str, str]
) -> None:
    teardown = [
        AEPDeleteDataflowOperator(task_id="flow", flow_id=payments["flow"]),
        AEPDeleteConnectionOperator(
            task_id="src", connection_id=payments["source"], connection_type="source"
        ),
        AEPDeleteConnectionOperator(
            task_id="tgt", connection_id=payments["target"], connection_type="target"
        ),
        AEPDeleteConnectionOperator(task_id="base", connection_id=payments["base"]),
        AEPDeleteDatasetOperator(task_id="ds", dataset_id=payments["dataset"]),
        AEPDeleteSchemaOperator(task_id="schema", schema_id=payments["schema"]),
    ]
    for operator in teardown:
        assert run(operator)[0]
    state = aep.state()["prod"]
    kinds = (
        "flows",
        "sourceConnections",
        "targetConnections",
        "connections",
        "dataSets",
        "schemas",
    )
    assert {kind: state.get(kind, []) for kind in kinds} == {kind: [] for kind in kinds}
    for operator in teardown:
        operator.ignore_missing = True
        assert run(operator)[0] is None
    with pytest.raises(AEPNotFoundError):
        run(AEPDeleteDataflowOperator(task_id="again", flow_id=payments["flow"]))


def test_a_redirected_delete_fails_and_does_not_log_deleted(
    aep: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = run(
        AEPCreateBaseConnectionOperator(
            task_id="b", name="acct", source="paypal", source_conn_id="paypal_default"
        )
    )
    moved = "https://platform-moved.example.com/data/foundation/flowservice/connections"
    aep.add_faults(
        [
            {
                "method": "DELETE",
                "path": f"/data/foundation/flowservice/connections/{base}",
                "status": 307,
                "location": moved,
            }
        ]
    )
    with (
        caplog.at_level(logging.INFO),
        pytest.raises(AEPRedirectError, match=re.escape(f"307 redirecting to {moved};")),
    ):
        run(AEPDeleteConnectionOperator(task_id="base", connection_id=base))
    assert "Deleted" not in caplog.text
    assert [a["id"] for a in aep.state()["prod"]["connections"]] == [base]


def test_every_request_of_a_tutorial_names_the_provider_in_its_user_agent(aep: RunningEmulator) -> None:
    shopify_streaming(Tutorial("000"))  # hook calls, IMS, and the streaming inlet's own client
    sent = aep.requests()
    assert any(r["path"].startswith("/collection/") for r in sent)
    agents = {r["user_agent"] for r in sent}
    assert agents == {f"airflow-provider-aep/{version('airflow-provider-aep')}"}
