"""PayPal products into AEP, one day a DAG run."""

from datetime import datetime, timezone

from airflow.sdk import DAG

from airflow_provider_aep.building_blocks import run_and_wait, source_to_dataset

with DAG(
    dag_id="my_paypal_products",
    schedule="@daily",
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    setup = source_to_dataset(
        name_prefix="My products",  # every resource is named "My products ...": re-runs reuse them
        source="paypal",  # PayPal's connection spec, tabular data, the CRMToAEP flow spec
        source_conn_id="paypal_default",  # the Airflow connection holding the PayPal credentials
        table_name="PayPal.Catalog_Products",
        columns=[
            {"name": "Product_Id", "type": "string", "xdm": {"type": "string"}},
            {"name": "Product_Name", "type": "string", "xdm": {"type": "string"}},
        ],
        mappings=[
            {"sourceAttribute": "Product_Id", "destinationXdmPath": "_id", "identity": False},
            {"sourceAttribute": "Product_Name", "destinationXdmPath": "product.name", "identity": False},
        ],
        delta_column="Update_Time",  # the column that dates each row
        schedule_params={"startTime": "{{ dag_run.run_after.timestamp() | int }}", "frequency": "once"},
    )
    run_and_wait(flow_id=setup.dataflow.output, delta_column="Update_Time")
