"""PayPal products into AEP every hour, on AEP's own schedule: this DAG only sets the dataflow up.

Trigger it once (``airflow dags trigger paypal_products_hourly_in_aep``). AEP then runs the dataflow
every hour from ``first_run_at`` on; the first run also ingests the history (``backfill``).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param
from shop_catalog import COLUMNS, DELTA_COLUMN, MAPPINGS, TABLE

from airflow_provider_aep.building_blocks import source_to_dataset

# The first ingestion: the DAG run's ``first_run_at`` (epoch seconds), else the next full hour.
FIRST_RUN_AT = "{{ params.first_run_at or ((dag_run.run_after.timestamp() // 3600 + 1) * 3600) | int }}"

with DAG(
    dag_id="paypal_products_hourly_in_aep",
    schedule=None,
    params={
        "first_run_at": Param(
            None, type=["null", "integer"], description="epoch seconds of AEP's first run (next full hour)"
        )
    },
    tags=["aep"],
):
    source_to_dataset(
        name_prefix="Hourly products",
        source="paypal",
        source_conn_id="paypal_default",
        table_name=TABLE,
        columns=COLUMNS,
        mappings=MAPPINGS,
        delta_column=DELTA_COLUMN,
        schedule_params={"startTime": FIRST_RUN_AT, "frequency": "hour", "interval": "1", "backfill": True},
    )
