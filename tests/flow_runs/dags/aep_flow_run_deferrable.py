"""Test DAG: both waits of a flow run deferred to the triggerer, over the DAG run's data interval.

``ingest`` asks AEP for a run of the day before the logical date and waits for it in the
triggerer; ``start_next`` asks for the run of the following day without waiting, and ``wait_next``
(a deferrable sensor) waits for that one. The dataflow id comes from the run conf
(``{"flow_id": "..."}``). The windows are explicit because ``airflow dags test`` makes a manual run,
whose data interval is empty in Airflow 3.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

with DAG(
    dag_id="aep_flow_run_deferrable",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"flow_id": ""},
) as dag:
    ingest = AEPTriggerFlowRunOperator(
        task_id="ingest",
        flow_id="{{ params.flow_id }}",
        delta_column="Update_Time",
        window_start="{{ logical_date - macros.timedelta(days=1) }}",
        window_end="{{ logical_date }}",
        deferrable=True,
        poll_interval=0.5,
        timeout=120,
    )
    start_next = AEPTriggerFlowRunOperator(
        task_id="start_next",
        flow_id="{{ params.flow_id }}",
        delta_column="Update_Time",
        window_start="{{ logical_date }}",
        window_end="{{ logical_date + macros.timedelta(days=1) }}",
        wait_for_completion=False,
    )
    wait_next = AEPFlowRunSensor(
        task_id="wait_next",
        flow_run_id=start_next.output,
        deferrable=True,
        poke_interval=0.5,
        timeout=120,
    )
    ingest >> start_next >> wait_next
