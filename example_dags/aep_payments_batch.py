"""Seeds 001/002: collect payment data (PayPal) into AEP with a batch dataflow that Airflow schedules."""

from __future__ import annotations

from _common import (
    DEFAULT_ARGS,
    PAYMENTS_DATASETS,
    PAYPAL_COLUMNS,
    PAYPAL_MAPPINGS,
    PREFIX,
    RUN_AFTER_EPOCH,
    SANDBOX,
    START_DATE,
    WINDOW_END,
    WINDOW_RULE,
    WINDOW_START,
    delta_column_param,
    name_prefix_param,
    paypal_table_param,
    sandbox_param,
    window_params,
)
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_aep.building_blocks import (
    PERSON_DETAILS_FIELD_GROUP,
    PERSONAL_DETAILS_FIELD_GROUP,
    run_and_wait,
    source_to_dataset,
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
    # The tutorial's setup, one task per step: the PayPal account (credentials from paypal_default),
    # the tabular source connection, the target schema and dataset, the data lake target connection,
    # the mapping set, the CRMToAEP flow spec look-up and the dataflow (Copy on the delta column, then
    # Mapping), scheduled "once": each DAG run starts the run of its own window.
    setup = source_to_dataset(
        name_prefix=PREFIX,
        source="paypal",
        source_conn_id="paypal_default",
        table_name="{{ params.table_name }}",
        columns=PAYPAL_COLUMNS,
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP, PERSONAL_DETAILS_FIELD_GROUP],
        mappings=PAYPAL_MAPPINGS,
        delta_column={"name": "{{ params.delta_column }}", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
        schedule_params={"startTime": RUN_AFTER_EPOCH, "frequency": "once"},
        descriptions={
            "base_connection": "PayPal account (tutorial 001)",
            "source_connection": "PayPal source connection",
            "schema": "Target schema for payments",
            "target_connection": "Target connection for payments",
            "dataflow": "Inbound payments to Platform, one run per Airflow data interval",
        },
        sandbox=SANDBOX,
        group_id="payments_setup",
        prefix_group_id=False,  # task ids create_base_connection ... create_dataflow
    )
    # This DAG run's window: one on-demand flow run, then a sensor until it has ended; the sensor
    # announces the dataset the run filled through the alias (asset event with the run's figures).
    run_and_wait(
        flow_id=setup.dataflow.output,
        delta_column="{{ params.delta_column }}",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        poke_interval=2,
        timeout=3600,
        outlets=[PAYMENTS_DATASETS],
        # Airflow registers the first event of an asset found through an alias by inserting the asset;
        # two waits of overlapping DAG runs finishing in the same instant race on that insert and
        # Airflow fails one of them (a unique-key violation in the API server). One wait at a time
        # finishes its event, the runs themselves still overlap.
        task_kwargs={"wait": {"max_active_tis_per_dag": 1}},
        sandbox=SANDBOX,
        group_id="ingest_window",
        prefix_group_id=False,  # task ids run_window, wait_for_run
    )
