"""Seed 000's appendix: monitor a dataflow's runs, update the dataflow and the account, delete both."""

from __future__ import annotations

from _common import (
    DAY_AFTER_RUN_EPOCH,
    DEFAULT_ARGS,
    PAYPAL_COLUMNS,
    PAYPAL_CONNECTION_SPEC_ID,
    PAYPAL_MAPPINGS,
    PAYPAL_TABLE,
    PREFIX,
    RUN_AFTER_EPOCH,
    SANDBOX,
    START_DATE,
    WINDOW_RULE,
    delta_column_param,
    name_prefix_param,
    run_and_wait,
    sandbox_param,
    window_params,
    xdm_destination,
)
from airflow.sdk import DAG, Param

from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSourceConnectionOperator,
    AEPDeleteConnectionOperator,
    AEPDeleteDataflowOperator,
    AEPGetBaseConnectionOperator,
    AEPGetDataflowOperator,
    AEPGetFlowSpecOperator,
    AEPUpdateBaseConnectionOperator,
    AEPUpdateDataflowOperator,
)

#: The updated mapping adds the product's creation time.
UPDATED_MAPPINGS = [
    *PAYPAL_MAPPINGS,
    {
        "destinationXdmPath": "product.createdAt",
        "sourceAttribute": "Create_Time",
        "identity": False,
        "version": 0,
    },
]

with DAG(
    dag_id="aep_dataflow_lifecycle",
    description="Monitor, update and delete an AEP dataflow and its account (tutorial 000 appendix)",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    # Runs with the same name_prefix share the account and the dataflow, and each run deletes them at
    # its end: one run at a time, so a run never loses them to another one's teardown.
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["aep", "lifecycle", "paypal", "tutorial"],
    params={
        "name_prefix": name_prefix_param("Airflow lifecycle"),
        "sandbox": sandbox_param(),
        "delta_column": delta_column_param("Source column that dates each row, used by the monitored run."),
        "update_frequency": Param(
            "hour",
            enum=["minute", "hour", "day", "week"],
            title="New schedule frequency",
            description="The dataflow's schedule after the update (interval 1; 15 for minute).",
        ),
        **window_params(),
    },
    doc_md=f"""
### Monitor, update and delete a dataflow and its account (Adobe tutorial 000, appendix)

The appendix of the Shopify streaming tutorial, on a PayPal batch dataflow this DAG builds for itself
(as Airflow **setup** tasks): it **monitors** the dataflow's runs (an on-demand run over a day,
watched by `AEPFlowRunSensor`), **updates the dataflow** (name, schedule, mapping set) and **the
account** (name, description and credentials re-read from `paypal_default`) by JSON Patch with the
etag in `If-Match`, then **deletes the dataflow, its source connection and the account** as Airflow
**teardown** tasks, which run even when a step before them failed, so the next run starts afresh.

**The monitored window**: {WINDOW_RULE} This DAG has no schedule, hence no data interval: unless
the window params are given, a run monitors the last full UTC day before its logical date or
`run_after`. One run at a time (`max_active_runs=1`):
runs with the same `name_prefix` share, and delete, the same account and dataflow.
""",
) as dag:
    base_connection = AEPCreateBaseConnectionOperator(
        task_id="create_account",
        name=f"{PREFIX} PayPal account",
        description="PayPal account",
        source="paypal",
        source_conn_id="paypal_default",
        sandbox=SANDBOX,
    )
    source_connection = AEPCreateSourceConnectionOperator(
        task_id="create_source_connection",
        name=f"{PREFIX} source connection",
        connection_spec_id=PAYPAL_CONNECTION_SPEC_ID,
        base_connection_id=base_connection.output,
        data_format="tabular",
        table_name=PAYPAL_TABLE,
        columns=PAYPAL_COLUMNS,
        sandbox=SANDBOX,
    )
    destination = xdm_destination(
        schema_title=f"{PREFIX} target schema",
        dataset_name=f"{PREFIX} target dataset",
        target_connection_name=f"{PREFIX} target connection",
        mappings=PAYPAL_MAPPINGS,
    )
    updated_mapping_set = AEPCreateMappingSetOperator(
        task_id="create_updated_mapping_set",
        schema_id=destination.schema.output,
        mappings=UPDATED_MAPPINGS,
        sandbox=SANDBOX,
    )
    flow_spec = AEPGetFlowSpecOperator(task_id="get_flow_spec", name="CRMToAEP", sandbox=SANDBOX)
    dataflow = AEPCreateDataflowOperator(
        task_id="create_dataflow",
        name=f"{PREFIX} dataflow",
        flow_spec_id=flow_spec.output,
        source_connection_ids=source_connection.output,
        target_connection_ids=destination.target_connection.output,
        delta_column={"name": "{{ params.delta_column }}"},
        mapping_id=destination.mapping_set.output,
        schedule_params={"startTime": RUN_AFTER_EPOCH, "frequency": "once"},
        sandbox=SANDBOX,
    )

    # Monitor: one run over the window, watched until it ends (fails closed on any non-success).
    monitor = run_and_wait(flow_id=dataflow.output, run_task_id="start_run", wait_task_id="monitor_run").wait

    # Update the dataflow: name, schedule and mapping set (JSON Patch with If-Match).
    update_dataflow = AEPUpdateDataflowOperator(
        task_id="update_dataflow",
        dataflow_id=dataflow.output,
        operations=[
            {"op": "replace", "path": "/name", "value": f"{PREFIX} dataflow (updated)"},
            {
                "op": "replace",
                "path": "/scheduleParams",
                "value": {
                    "startTime": DAY_AFTER_RUN_EPOCH,
                    "frequency": "{{ params.update_frequency }}",
                    "interval": "{{ 15 if params.update_frequency == 'minute' else 1 }}",
                },
            },
            {
                "op": "replace",
                "path": "/transformations",
                "value": [
                    {"name": "Copy", "params": {"deltaColumn": {"name": "{{ params.delta_column }}"}}},
                    {
                        "name": "Mapping",
                        "params": {"mappingId": updated_mapping_set.output, "mappingVersion": 0},
                    },
                ],
            },
        ],
        sandbox=SANDBOX,
    )
    check_dataflow = AEPGetDataflowOperator(
        task_id="get_updated_dataflow", dataflow_id=dataflow.output, sandbox=SANDBOX
    )

    # Update the account: name, description, and the credentials re-read from the Airflow connection.
    update_account = AEPUpdateBaseConnectionOperator(
        task_id="update_account",
        base_connection_id=base_connection.output,
        operations=[
            {"op": "replace", "path": "/name", "value": f"{PREFIX} PayPal account (updated)"},
            {
                "op": "replace",
                "path": "/description",
                "value": "PayPal account, credentials rotated by Airflow",
            },
        ],
        source_conn_id="paypal_default",
        source="paypal",
        sandbox=SANDBOX,
    )
    check_account = AEPGetBaseConnectionOperator(
        task_id="get_updated_account", base_connection_id=base_connection.output, sandbox=SANDBOX
    )

    # Delete the dataflow, its source connection (the next run's new account needs a new one), then the
    # account (AEP refuses to delete an account a dataflow still uses).
    delete_dataflow = AEPDeleteDataflowOperator(
        task_id="delete_dataflow", dataflow_id=dataflow.output, ignore_missing=True, sandbox=SANDBOX
    ).as_teardown(setups=dataflow)
    delete_source_connection = AEPDeleteConnectionOperator(
        task_id="delete_source_connection",
        connection_id=source_connection.output,
        connection_type="source",
        ignore_missing=True,
        sandbox=SANDBOX,
    ).as_teardown(setups=source_connection)
    delete_account = AEPDeleteConnectionOperator(
        task_id="delete_account",
        connection_id=base_connection.output,
        ignore_missing=True,
        sandbox=SANDBOX,
    ).as_teardown(setups=base_connection)

    monitor >> update_dataflow >> check_dataflow >> update_account >> check_account >> delete_dataflow
    delete_dataflow >> delete_source_connection >> delete_account
