"""Seeds 001/002: collect payment data (PayPal) into AEP with a batch dataflow that Airflow schedules."""

from __future__ import annotations

from _common import (
    DEFAULT_ARGS,
    PAYMENTS_DATASETS,
    PAYPAL_COLUMNS,
    PAYPAL_CONNECTION_SPEC_ID,
    PAYPAL_MAPPINGS,
    PERSON_DETAILS_FIELD_GROUP,
    PERSONAL_DETAILS_FIELD_GROUP,
    PREFIX,
    RUN_AFTER_EPOCH,
    SANDBOX,
    START_DATE,
    WINDOW_RULE,
    delta_column_param,
    name_prefix_param,
    paypal_table_param,
    run_and_wait,
    sandbox_param,
    window_params,
    xdm_destination,
)
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateSourceConnectionOperator,
    AEPGetFlowSpecOperator,
)

with DAG(
    dag_id="aep_payments_batch",
    description="PayPal payments into AEP: one on-demand flow run per daily data interval",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=3,
    default_args=DEFAULT_ARGS,
    tags=["aep", "batch", "paypal", "tutorial"],
    params={
        "name_prefix": name_prefix_param("Airflow payments"),
        "sandbox": sandbox_param(),
        "table_name": paypal_table_param(),
        "delta_column": delta_column_param(),
        **window_params(),
    },
    doc_md=f"""
### Collect payment data with a source connector (Adobe tutorials 001/002, PayPal)

The tutorial "Collect payment data using source connectors and APIs", one task per step:
PayPal base connection (credentials from the Airflow connection `paypal_default`, never from this
file), a tabular source connection on `PayPal.Catalog_Products` and its columns, the target XDM
schema (profile class with person and personal details) and dataset, the data lake target connection,
the mapping set, the `CRMToAEP` flow spec lookup, and the dataflow with `Copy` (delta column) and
`Mapping` transformations.

The dataflow is scheduled `once`: **Airflow owns the schedule.** Each DAG run asks AEP for one on-demand
flow run over its window and waits for it, so a backfill of N days is N windowed flow runs. Every
setup task is idempotent: later runs reuse what the first one created, and a retried task reuses
what its earlier try made.

**The window** a DAG run ingests: {WINDOW_RULE}
It runs the same however it is started: on its schedule, as a backfill, with `airflow dags test`,
from the trigger form, with `airflow dags trigger` or through the REST API.

**Assets**: once the run succeeded, `wait_for_run` adds an asset event for the dataset it filled
(`aep://<org>/<sandbox>/datasets/<id>`) to the alias `aep_payments_datasets`, with the run, its window,
record counts and batch ids: `aep_payments_downstream` runs on it.
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
    destination = xdm_destination(
        schema_title=f"{PREFIX} target schema",
        schema_description="Target schema for payments",
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP, PERSONAL_DETAILS_FIELD_GROUP],
        dataset_name=f"{PREFIX} target dataset",
        target_connection_name=f"{PREFIX} target connection",
        target_connection_description="Target connection for payments",
        mappings=PAYPAL_MAPPINGS,
    )
    flow_spec = AEPGetFlowSpecOperator(task_id="get_flow_spec", name="CRMToAEP", sandbox=SANDBOX)
    dataflow = AEPCreateDataflowOperator(
        task_id="create_dataflow",
        name=f"{PREFIX} dataflow",
        description="Inbound payments to Platform, one run per Airflow data interval",
        flow_spec_id=flow_spec.output,
        source_connection_ids=source_connection.output,
        target_connection_ids=destination.target_connection.output,
        delta_column={"name": "{{ params.delta_column }}", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
        mapping_id=destination.mapping_set.output,
        schedule_params={"startTime": RUN_AFTER_EPOCH, "frequency": "once"},
        sandbox=SANDBOX,
    )
    # This DAG run's window: one on-demand flow run, then a sensor until it has ended; the sensor
    # announces the dataset the run filled through the alias (asset event with the run's figures).
    run_and_wait(
        flow_id=dataflow.output,
        run_task_id="run_window",
        wait_task_id="wait_for_run",
        outlets=[PAYMENTS_DATASETS],
    )
