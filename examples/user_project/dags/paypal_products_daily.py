"""PayPal products into AEP, one day per DAG run: Airflow owns the schedule.

The dataflow is scheduled ``once``; each DAG run asks AEP for an on-demand run over its own day, waits
for it, and a last task reports what landed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, get_current_context, task
from shop_catalog import COLUMNS, DELTA_COLUMN, MAPPINGS, TABLE

from airflow_provider_aep.building_blocks import run_and_wait, source_to_dataset

with DAG(
    dag_id="paypal_products_daily",
    schedule="@daily",
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["aep"],
):
    setup = source_to_dataset(
        name_prefix="Shop products",
        source="paypal",
        source_conn_id="paypal_default",
        table_name=TABLE,
        columns=COLUMNS,
        mappings=MAPPINGS,
        delta_column=DELTA_COLUMN,
        schedule_params={"startTime": "{{ dag_run.run_after.timestamp() | int }}", "frequency": "once"},
    )
    ingest = run_and_wait(flow_id=setup.dataflow.output, delta_column=DELTA_COLUMN)

    @task
    def report_landed() -> dict[str, int]:
        """What AEP wrote for this day (the wait's ``run_report``), for downstream tasks and dashboards."""
        ti = get_current_context()["ti"]
        report = ti.xcom_pull(task_ids=ingest.wait.task_id, key="run_report")
        records = report["records"]
        return {"read": records["read"], "written": records["written"], "batches": len(report["batches"])}

    ingest.wait >> report_landed()
