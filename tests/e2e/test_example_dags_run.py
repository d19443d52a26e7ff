"""Every example DAG runs green in `airflow dags test` against the emulator and does its tutorial."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator

from .conftest import days_ago
from .harness import AirflowCli, epoch

pytestmark = pytest.mark.slow

RESOURCE_KINDS = (
    "connections",
    "sourceConnections",
    "targetConnections",
    "flows",
    "dataSets",
    "schemas",
    "classes",
    "mappingSets",
)


def prod(emulator: RunningEmulator) -> dict[str, list[dict[str, Any]]]:
    state: dict[str, list[dict[str, Any]]] = emulator.state()["prod"]
    return state


def resource_counts(emulator: RunningEmulator) -> Counter[str]:
    state = prod(emulator)
    return Counter({kind: len(state[kind]) for kind in RESOURCE_KINDS})


def run_succeeded(
    cli: AirflowCli, dag_id: str, date: str, conf: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``airflow dags test`` exits 0 and Airflow recorded the DAG run as successful; returns that run."""
    cli.dags_test(dag_id, date, conf)
    latest = cli.dag_runs(dag_id)[0]
    assert latest["state"] == "success", latest
    return latest


def test_shopify_streaming_order_lands(airflow_cli: AirflowCli, emulator: RunningEmulator) -> None:
    run_succeeded(airflow_cli, "aep_shopify_streaming", days_ago(1))
    state = prod(emulator)
    [flow] = state["flows"]
    assert flow["flowSpec"]["id"] == "e77fde5a-22a8-11ed-861d-0242ac120002"
    [source] = state["sourceConnections"]
    assert source["providerId"] == "521eee4d-8cbe-4906-bb48-fb6bd4450033"
    [inlet] = state["inlets"]
    assert inlet["records"] == 1, "the sample order was not posted to the inlet exactly once"
    inlet_posts = [r for r in emulator.requests() if r["path"].startswith("/collection/")]
    assert len(inlet_posts) == 1


def test_payments_batch_runs_its_data_interval(airflow_cli: AirflowCli, emulator: RunningEmulator) -> None:
    dag_run = run_succeeded(airflow_cli, "aep_payments_batch", days_ago(3))
    state = prod(emulator)
    [base] = state["connections"]
    assert base["auth"]["specName"] == "Client-Id-Secret Based Authentication"
    assert base["connectionSpec"]["id"] == "221c7626-58f6-4eec-8ee2-042b0226f03b"
    [flow] = state["flows"]
    assert flow["scheduleParams"]["frequency"] == "once"
    assert [t["name"] for t in flow["transformations"]] == ["Copy", "Mapping"]
    on_demand = [
        run
        for run in state["runs"]
        if "windowStartTime" in run["params"] and run.get("runKind") != "scheduled"
    ]
    [run] = on_demand
    interval = (epoch(dag_run["data_interval_start"]), epoch(dag_run["data_interval_end"]))
    assert interval[1] - interval[0] == 86400
    assert (int(run["params"]["windowStartTime"]), int(run["params"]["windowEndTime"])) == interval
    assert run["params"]["deltaColumn"]["name"] == "Update_Time"


def test_setup_is_idempotent_across_runs(airflow_cli: AirflowCli, emulator: RunningEmulator) -> None:
    """A scheduled DAG runs its setup tasks every time: the second run must reuse all of them."""
    run_succeeded(airflow_cli, "aep_payments_batch", days_ago(5))
    first = resource_counts(emulator)
    runs_after_first = len(prod(emulator)["runs"])
    run_succeeded(airflow_cli, "aep_payments_batch", days_ago(4))
    assert resource_counts(emulator) == first
    assert len(prod(emulator)["runs"]) == runs_after_first + 1, "the second interval needs its own flow run"
    creates = [r for r in emulator.requests() if r["method"] == "POST" and r["path"].endswith("/connections")]
    assert len(creates) == 1


def test_adhoc_schema_describes_the_raw_data(airflow_cli: AirflowCli, emulator: RunningEmulator) -> None:
    run_succeeded(airflow_cli, "aep_payments_adhoc_schema", days_ago(2))
    state = prod(emulator)
    [adhoc_class] = state["classes"]
    schemas = {schema["title"]: schema for schema in state["schemas"]}
    adhoc_schema = schemas["Airflow ad-hoc payments raw products schema"]
    assert any(part.get("$ref") == adhoc_class["$id"] for part in adhoc_schema["allOf"])
    [source] = state["sourceConnections"]
    assert source["data"]["schema"]["id"] == adhoc_schema["$id"]
    assert source["params"]["path"] == "PayPal.Catalog_Products"


@pytest.mark.parametrize(
    ("platform", "spec_name", "credential_key"),
    [
        ("azure", "Client-Id-Secret Based Authentication", "host"),
        ("aws", "OAuth2 Client Credential", "subdomain"),
    ],
)
def test_salesforce_marketing_cloud_on_each_platform(
    airflow_cli: AirflowCli, emulator: RunningEmulator, platform: str, spec_name: str, credential_key: str
) -> None:
    run_succeeded(airflow_cli, "aep_salesforce_marketing_cloud", days_ago(1), {"platform": platform})
    state = prod(emulator)
    [base] = state["connections"]
    assert base["connectionSpec"]["id"] == "ea1c2a08-b722-11eb-8529-0242ac130003"
    assert base["auth"]["specName"] == spec_name
    assert credential_key in base["auth"]["params"]
    [flow] = state["flows"]
    [source] = state["sourceConnections"]
    assert flow["sourceConnectionIds"] == [source["id"]]
    assert source["baseConnectionId"] == base["id"]


def test_dataflow_lifecycle_updates_then_deletes(airflow_cli: AirflowCli, emulator: RunningEmulator) -> None:
    run_succeeded(airflow_cli, "aep_dataflow_lifecycle", days_ago(1))
    state = prod(emulator)
    assert state["flows"] == [], "the teardown did not delete the dataflow"
    assert state["connections"] == [], "the teardown did not delete the account"
    assert state["sourceConnections"] == [], "the teardown did not delete the source connection"
    patches = [r for r in emulator.requests() if r["method"] == "PATCH"]
    assert [p["path"].split("/")[-2] for p in patches] == ["flows", "connections"]
    assert all(p["status"] == 200 for p in patches)
    deletes = [
        (r["path"].split("/")[-2], r["status"]) for r in emulator.requests() if r["method"] == "DELETE"
    ]
    assert deletes == [("flows", 204), ("sourceConnections", 204), ("connections", 204)]
