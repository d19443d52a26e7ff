"""Seeds 001/002: collect payment data (PayPal) into AEP with a batch dataflow that Airflow schedules."""

from __future__ import annotations

from _common import (
    DATA_LAKE_CONNECTION_SPEC_ID,
    DEFAULT_ARGS,
    INTERVAL_START_EPOCH,
    PAYPAL_COLUMNS,
    PAYPAL_CONNECTION_SPEC_ID,
    PAYPAL_MAPPINGS,
    PAYPAL_TABLE,
    PERSON_DETAILS_FIELD_GROUP,
    PERSONAL_DETAILS_FIELD_GROUP,
    PROFILE_CLASS,
    SANDBOX,
    START_DATE,
    WINDOW_END,
    WINDOW_START,
    name_prefix_param,
    sandbox_param,
    window_params,
)
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSchemaOperator,
    AEPCreateSourceConnectionOperator,
    AEPCreateTargetConnectionOperator,
    AEPGetFlowSpecOperator,
)
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

PREFIX = "{{ params.name_prefix }}"

with DAG(
    dag_id="aep_payments_batch",
    description="PayPal payments into AEP: one on-demand flow run per daily data interval",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["aep", "batch", "paypal", "tutorial"],
    params={
        "name_prefix": name_prefix_param("Airflow payments"),
        "sandbox": sandbox_param(),
        "table_name": Param(
            PAYPAL_TABLE, type="string", title="Source table", description="PayPal table the dataflow reads."
        ),
        "delta_column": Param(
            "Update_Time",
            type="string",
            title="Delta column",
            description="Source column that dates each row: a flow run ingests the rows of its window.",
        ),
        **window_params(),
    },
    doc_md="""
### Collect payment data with a source connector (Adobe tutorials 001/002, PayPal)

The tutorial "Collect payment data using source connectors and APIs", one task per step:
PayPal base connection (credentials from the Airflow connection `paypal_default`, never from this
file), a tabular source connection on `PayPal.Catalog_Products` and its columns, the target XDM
schema (profile class with person and personal details) and dataset, the data lake target connection,
the mapping set, the `CRMToAEP` flow spec lookup, and the dataflow with `Copy` (delta column) and
`Mapping` transformations.

The dataflow is scheduled `once`: **Airflow owns the schedule.** Each DAG run asks AEP for one on-demand
flow run over its own data interval and waits for it, so a backfill of N days is N windowed flow
runs. Every setup task is idempotent: later runs reuse what the first one created.
""",
) as dag:
    base_connection = AEPCreateBaseConnectionOperator(
        task_id="create_base_connection",
        name=f"{PREFIX} PayPal base connection",
        description="PayPal account (tutorial 001)",
        source="paypal",
        source_conn_id="paypal_default",
        sandbox=SANDBOX,
    )
    source_connection = AEPCreateSourceConnectionOperator(
        task_id="create_source_connection",
        name=f"{PREFIX} PayPal source connection",
        description="PayPal source connection",
        connection_spec_id=PAYPAL_CONNECTION_SPEC_ID,
        base_connection_id=base_connection.output,
        data_format="tabular",
        table_name="{{ params.table_name }}",
        columns=PAYPAL_COLUMNS,
        sandbox=SANDBOX,
    )
    schema = AEPCreateSchemaOperator(
        task_id="create_target_schema",
        title=f"{PREFIX} target schema",
        description="Target schema for payments",
        class_id=PROFILE_CLASS,
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP, PERSONAL_DETAILS_FIELD_GROUP],
        sandbox=SANDBOX,
    )
    dataset = AEPCreateDatasetOperator(
        task_id="create_target_dataset",
        name=f"{PREFIX} target dataset",
        schema_id=schema.output,
        sandbox=SANDBOX,
    )
    target_connection = AEPCreateTargetConnectionOperator(
        task_id="create_target_connection",
        name=f"{PREFIX} target connection",
        description="Target connection for payments",
        connection_spec_id=DATA_LAKE_CONNECTION_SPEC_ID,
        dataset_id=dataset.output,
        schema_id=schema.output,
        sandbox=SANDBOX,
    )
    mapping_set = AEPCreateMappingSetOperator(
        task_id="create_mapping_set",
        schema_id=schema.output,
        mappings=PAYPAL_MAPPINGS,
        sandbox=SANDBOX,
    )
    flow_spec = AEPGetFlowSpecOperator(task_id="get_flow_spec", name="CRMToAEP", sandbox=SANDBOX)
    dataflow = AEPCreateDataflowOperator(
        task_id="create_dataflow",
        name=f"{PREFIX} dataflow",
        description="Inbound payments to Platform, one run per Airflow data interval",
        flow_spec_id=flow_spec.output,
        source_connection_ids=source_connection.output,
        target_connection_ids=target_connection.output,
        delta_column={"name": "{{ params.delta_column }}", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
        mapping_id=mapping_set.output,
        schedule_params={"startTime": INTERVAL_START_EPOCH, "frequency": "once"},
        sandbox=SANDBOX,
    )
    flow_run = AEPTriggerFlowRunOperator(
        task_id="run_window",
        flow_id=dataflow.output,
        delta_column="{{ params.delta_column }}",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        wait_for_completion=False,
        sandbox=SANDBOX,
    )
    AEPFlowRunSensor(
        task_id="wait_for_run",
        flow_run_id=flow_run.output,
        poke_interval=2,
        timeout=3600,
        sandbox=SANDBOX,
    )
