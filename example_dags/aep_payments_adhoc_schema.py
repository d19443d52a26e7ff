"""Seed 004: payments ingestion whose source connection describes its raw data with an ad-hoc XDM schema."""

from __future__ import annotations

from _common import (
    DEFAULT_ARGS,
    PAYPAL_MAPPINGS,
    PREFIX,
    RUN_AFTER_EPOCH,
    SANDBOX,
    START_DATE,
    WINDOW_END,
    WINDOW_RULE,
    WINDOW_START,
    XED_NOTEXT,
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
    source_to_dataset,
)
from airflow_provider_aep.operators import AEPCreateAdhocClassOperator, AEPCreateSchemaOperator
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator

#: The raw fields of ``PayPal.Catalog_Products``: the ad-hoc class must describe every one of them.
RAW_FIELDS = {
    "Product_Id": "string",
    "Product_Name": "string",
    "Description": "string",
    "Type": "string",
    "Create_Time": "string",
    "Update_Time": "string",
}

with DAG(
    dag_id="aep_payments_adhoc_schema",
    description="PayPal payments into AEP with an ad-hoc schema describing the raw source data",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=3,
    default_args=DEFAULT_ARGS,
    tags=["aep", "batch", "paypal", "adhoc-schema", "tutorial"],
    params={
        "name_prefix": name_prefix_param("Airflow ad-hoc payments"),
        "sandbox": sandbox_param(),
        "table_name": paypal_table_param(),
        "delta_column": delta_column_param(),
        **window_params(),
    },
    doc_md=f"""
### Collect payment data through a source connector, with an ad-hoc schema (Adobe tutorial 004)

The tutorial first creates an **ad-hoc XDM class and schema** describing every field of the raw
source data (AEP renames the class's `_adhoc` object to a `_<guid>` namespace), then a source
connection on `PayPal.Catalog_Products` (by `path`) that references the ad-hoc schema, the target
schema and dataset, the data lake target connection, the mapping set, the `CRMToAEP` flow spec
lookup and the dataflow (`Copy` with a delta column, then `Mapping`), scheduled `once`.

Each DAG run then ingests its window with an on-demand flow run and waits for it (a retry reuses
that run). Credentials come from the Airflow connection `paypal_default`.

**The window** a DAG run ingests: {WINDOW_RULE}
""",
) as dag:
    adhoc_class = AEPCreateAdhocClassOperator(
        task_id="create_adhoc_class",
        title=f"{PREFIX} raw products class",
        description="Every field of the raw PayPal products table",
        fields=RAW_FIELDS,
        sandbox=SANDBOX,
    )
    adhoc_schema = AEPCreateSchemaOperator(
        task_id="create_adhoc_schema",
        title=f"{PREFIX} raw products schema",
        description="Ad-hoc schema of the raw source data",
        class_id=adhoc_class.output,
        sandbox=SANDBOX,
    )
    # Then the payments setup, its source connection reading the table by path and carrying the ad-hoc
    # schema: account, source connection, target schema and dataset, target connection, mapping set,
    # the CRMToAEP flow spec look-up and the dataflow (Copy on the delta column, then Mapping), "once".
    setup = source_to_dataset(
        name_prefix=PREFIX,
        source="paypal",
        source_conn_id="paypal_default",
        path="{{ params.table_name }}",
        source_schema_id=adhoc_schema.output,
        source_schema_version=XED_NOTEXT,
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP, PERSONAL_DETAILS_FIELD_GROUP],
        mappings=PAYPAL_MAPPINGS,
        delta_column={"name": "{{ params.delta_column }}", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
        mapping_version="0",
        schedule_params={"startTime": RUN_AFTER_EPOCH, "frequency": "once"},
        descriptions={
            "base_connection": "PayPal account",
            "source_connection": "Paypal",
            "schema": "Target schema for payments",
            "target_connection": "Target connection for payments",
            "dataflow": "Inbound data to Platform",
        },
        sandbox=SANDBOX,
        group_id="payments_setup",
        prefix_group_id=False,
    )
    # The window's run, waited for in the same task (a retry reuses the run).
    AEPTriggerFlowRunOperator(
        task_id="run_window",
        flow_id=setup.dataflow.output,
        delta_column="{{ params.delta_column }}",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        poll_interval=2,
        sandbox=SANDBOX,
    )
