"""The building blocks: a tutorial's setup and "run this window and wait" as task groups whose tasks keep
readable ids and whose ``.output``s chain, importable cheaply when a DAG file is parsed."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_aep import sources
from airflow_provider_aep.building_blocks import (
    PERSON_DETAILS_FIELD_GROUP,
    run_and_wait,
    source_to_dataset,
    xdm_destination,
)
from airflow_provider_aep.exceptions import AEPConfigError

MAPPINGS = [{"sourceAttribute": "Product_Id", "destinationXdmPath": "_id", "identity": False}]
SETUP_TASKS = {
    "create_base_connection",
    "create_source_connection",
    "create_target_schema",
    "create_target_dataset",
    "create_target_connection",
    "create_mapping_set",
    "get_flow_spec",
    "create_dataflow",
}


def paypal(**kwargs: Any) -> Any:
    arguments: dict[str, Any] = {
        "name_prefix": "{{ params.name_prefix }}",
        "source": "paypal",
        "source_conn_id": "paypal_default",
        "table_name": "PayPal.Catalog_Products",
        "mappings": MAPPINGS,
        "delta_column": "Update_Time",
        "schedule_params": {"startTime": "{{ dag_run.run_after.timestamp() | int }}", "frequency": "once"},
        **kwargs,
    }
    return source_to_dataset(**arguments)


def test_the_setup_is_one_task_group_whose_outputs_chain() -> None:
    with DAG("blocks", schedule=None) as dag:
        setup = paypal(field_group_ids=[PERSON_DETAILS_FIELD_GROUP])
        ingest = run_and_wait(flow_id=setup.dataflow.output, delta_column="Update_Time")
    assert {task.task_id for task in setup.group} == {f"source_to_dataset.{task}" for task in SETUP_TASKS}
    assert {ingest.run.task_id, ingest.wait.task_id} == {
        "run_and_wait.run_window",
        "run_and_wait.wait_for_run",
    }
    ids = {task.task_id.rpartition(".")[2]: task for task in dag.tasks}
    # .output chains the steps: each task waits for the ids it is given
    assert ids["create_source_connection"].upstream_task_ids == {"source_to_dataset.create_base_connection"}
    assert ids["create_dataflow"].upstream_task_ids == {
        "source_to_dataset.get_flow_spec",
        "source_to_dataset.create_source_connection",
        "source_to_dataset.create_target_connection",
        "source_to_dataset.create_mapping_set",
    }
    assert ids["run_window"].upstream_task_ids == {"source_to_dataset.create_dataflow"}
    assert ids["wait_for_run"].upstream_task_ids == {"run_and_wait.run_window"}
    # the names every re-run looks up, from the prefix and the source
    assert setup.base_connection.name == "{{ params.name_prefix }} PayPal base connection"
    assert setup.source_connection.name == "{{ params.name_prefix }} PayPal source connection"
    assert setup.schema.title == "{{ params.name_prefix }} target schema"
    assert setup.dataflow.name == "{{ params.name_prefix }} dataflow"
    assert setup.flow_spec is not None
    assert setup.flow_spec.name == "CRMToAEP"
    assert setup.source_connection.connection_spec_id == sources.PAYPAL_CONNECTION_SPEC_ID
    assert setup.schema.field_group_ids == [PERSON_DETAILS_FIELD_GROUP]
    assert ingest.run.wait_for_completion is False
    assert ingest.wait.poke_interval == 30


def test_task_ids_stay_bare_without_the_group_prefix_and_two_setups_live_side_by_side() -> None:
    with DAG("two_setups", schedule=None) as dag:
        paypal(group_id="products", prefix_group_id=False)
        paypal(name_prefix="Other", group_id="other")
        run_and_wait(flow_id="f", run_task_id="start_run", wait_task_id="monitor_run", prefix_group_id=False)
    task_ids = {task.task_id for task in dag.tasks}
    assert task_ids >= SETUP_TASKS
    assert {f"other.{task}" for task in SETUP_TASKS} <= task_ids
    assert {"start_run", "monitor_run"} <= task_ids


def test_streaming_needs_no_account_and_no_flow_spec_look_up() -> None:
    with DAG("streaming", schedule=None):
        setup = source_to_dataset(
            name_prefix="Shop", source="shopify_streaming", target_data_format="json", mappings=MAPPINGS
        )
    assert setup.base_connection is None
    assert setup.flow_spec is None
    assert setup.source_connection.provider_id == sources.SHOPIFY_PROVIDER_ID
    assert setup.source_connection.data_format == "json"
    assert setup.dataflow.flow_spec_id == sources.STREAMING_FLOW_SPEC_ID
    assert setup.target_connection.data_format == "json"
    assert setup.source_connection.name == "Shop Shopify source connection"


def test_names_descriptions_and_task_kwargs_per_step() -> None:
    with DAG("overrides", schedule=None):
        destination = xdm_destination(
            name_prefix="P",
            mappings="{{ params.mappings }}",
            names={"schema": "Contacts schema"},
            descriptions={"dataset": "Contacts"},
            task_kwargs={"mapping_set": {"retries": 5}},
            prefix_group_id=False,
        )
        setup = paypal(
            base_connection_id="{{ ti.xcom_pull(task_ids='account') }}",
            source_conn_id=None,
            task_kwargs={"source_connection": {"trigger_rule": "none_failed_min_one_success"}},
            group_id="setup",
        )
    assert destination.schema.title == "Contacts schema"
    assert destination.dataset.description == "Contacts"
    assert destination.mapping_set.retries == 5
    assert destination.mapping_set.task_id == "create_mapping_set"
    assert setup.base_connection is None
    assert setup.source_connection.base_connection_id == "{{ ti.xcom_pull(task_ids='account') }}"
    assert setup.source_connection.trigger_rule == "none_failed_min_one_success"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_conn_id": None}, r"^source_conn_id: paypal reads its data through an account"),
        ({"base_connection_id": "b"}, r"^base_connection_id: give source_conn_id .* or base_connection_id"),
        ({"source": "shopify_streaming"}, r"^source_conn_id: shopify_streaming has no account"),
        ({"source": "stripe"}, r"^source: must be one of paypal, "),
        ({"names": {"flow": "x"}}, r"^names: unknown step 'flow'; the steps are base_connection, "),
        ({"task_kwargs": {"dataflow": 3}}, r"^task_kwargs.dataflow: must be a dict of operator arguments"),
        (
            {"mappings": "source -> destination"},
            r"^mappings: must be a list of mappings, got a str that is not",
        ),
        ({"delta_column": {"timezone": "UTC"}}, r"^delta_column.name: must be the column name"),
        ({"source": None, "connection_spec_id": sources.PAYPAL_CONNECTION_SPEC_ID}, r"^flow_spec_name: give"),
    ],
)
def test_a_wrong_argument_fails_when_the_dag_is_parsed_naming_it(
    kwargs: dict[str, Any], message: str
) -> None:
    with DAG("wrong", schedule=None), pytest.raises(AEPConfigError, match=message):
        paypal(**kwargs)


def test_run_and_wait_passes_the_wait_settings_and_outlets() -> None:
    from airflow.sdk import AssetAlias

    alias = AssetAlias("ingested")
    with DAG("waits", schedule=None):
        ingest = run_and_wait(
            flow_id="f",
            window_start="{{ params.window_start or '' }}",
            poke_interval=5,
            timeout=60,
            deferrable=True,
            max_failed_ratio=0.01,
            outlets=[alias],
            task_kwargs={"wait": {"soft_fail": True}},
        )
    assert ingest.run.window_start == "{{ params.window_start or '' }}"
    assert (ingest.wait.poke_interval, ingest.wait.timeout, ingest.wait.deferrable) == (5, 60, True)
    assert ingest.wait.max_failed_ratio == 0.01
    assert ingest.wait.soft_fail is True
    assert ingest.wait.outlets == [alias]
    with DAG("wrong_step", schedule=None), pytest.raises(AEPConfigError, match=r"^task_kwargs: unknown step"):
        run_and_wait(flow_id="f", task_kwargs={"sensor": {}})


def test_importing_the_building_blocks_imports_no_operator() -> None:
    code = (
        "import sys, airflow.sdk\n"
        "import airflow_provider_aep.building_blocks\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('airflow_provider_aep'))))\n"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "airflow_provider_aep.building_blocks" in loaded
    assert not any(module.startswith("airflow_provider_aep.operators.") for module in loaded), loaded
    assert not any(
        module.startswith(("airflow_provider_aep.models", "airflow_provider_aep.hooks")) for module in loaded
    )
