"""Seed 000's appendix: monitor a dataflow's runs, update the dataflow and the account, delete both."""

from __future__ import annotations

from _common import (
    DAY_AFTER_RUN_EPOCH,
    DEFAULT_ARGS,
    PAYPAL_COLUMNS,
    PAYPAL_MAPPINGS,
    PAYPAL_TABLE,
    PREFIX,
    RUN_AFTER_EPOCH,
    SANDBOX,
    START_DATE,
    WINDOW_END,
    WINDOW_RULE,
    WINDOW_START,
    delta_column_param,
    name_prefix_param,
    sandbox_param,
    window_params,
)
from airflow.sdk import DAG, Param

from airflow_provider_aep.building_blocks import run_and_wait, source_to_dataset
from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateMappingSetOperator,
    AEPDeleteConnectionOperator,
    AEPDeleteDataflowOperator,
    AEPGetBaseConnectionOperator,
    AEPGetDataflowOperator,
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
    # The dataflow this DAG monitors, updates and deletes: the payments setup on that account.
    setup = source_to_dataset(
        name_prefix=PREFIX,
        source="paypal",
        base_connection_id=base_connection.output,
        table_name=PAYPAL_TABLE,
        columns=PAYPAL_COLUMNS,
        mappings=PAYPAL_MAPPINGS,
        delta_column="{{ params.delta_column }}",
        schedule_params={"startTime": RUN_AFTER_EPOCH, "frequency": "once"},
        sandbox=SANDBOX,
        group_id="dataflow_setup",
        prefix_group_id=False,
    )
    source_connection, dataflow = setup.source_connection, setup.dataflow
    updated_mapping_set = AEPCreateMappingSetOperator(
        task_id="create_updated_mapping_set",
        schema_id=setup.schema.output,
        mappings=UPDATED_MAPPINGS,
        sandbox=SANDBOX,
    )

    # Monitor: one run over the window, watched until it ends (fails closed on any non-success).
    monitor = run_and_wait(
        flow_id=dataflow.output,
        delta_column="{{ params.delta_column }}",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        poke_interval=2,
        timeout=3600,
        sandbox=SANDBOX,
        run_task_id="start_run",
        wait_task_id="monitor_run",
        group_id="monitor",
        prefix_group_id=False,
    ).wait

    # Update the dataflow: name, schedule and mapping set (JSON Patch with If-Match).
    update_dataflow = AEPUpdateDataflowOperator(
        task_id="update_dataflow",
        flow_id=dataflow.output,
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
        task_id="get_updated_dataflow", flow_id=dataflow.output, sandbox=SANDBOX
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
        task_id="delete_dataflow", flow_id=dataflow.output, ignore_missing=True, sandbox=SANDBOX
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
