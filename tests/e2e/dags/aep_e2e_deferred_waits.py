"""Five flow-run waits at once per DAG run, for ``tests/e2e/test_production_stack.py``.

Each task asks AEP for an on-demand flow run of an existing dataflow (``params.flow_id``) over its own
window (``params.windows[i]``, ISO start and end) and waits for it deferred, in a triggerer. No retries:
a wait that does not end correctly the first time fails its DAG run. Not an example DAG: the production
stack loads this folder as a second DAG bundle.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Param

from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator

WAITS_PER_RUN = 5

with DAG(
    dag_id="aep_e2e_deferred_waits",
    description="Test DAG: five deferred flow-run waits per run",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=8,
    max_active_tasks=WAITS_PER_RUN,
    default_args={"owner": "aep", "retries": 0},
    params={
        "flow_id": Param("", type="string", description="The dataflow whose runs are awaited."),
        "windows": Param(
            [],
            type="array",
            minItems=WAITS_PER_RUN,
            description=f"{WAITS_PER_RUN} [start, end] pairs of ISO date-times, one per task.",
        ),
    },
    tags=["aep", "e2e-test"],
) as dag:
    for index in range(WAITS_PER_RUN):
        AEPTriggerFlowRunOperator(
            task_id=f"wait_{index}",
            flow_id="{{ params.flow_id }}",
            delta_column="Update_Time",
            window_start=f"{{{{ params.windows[{index}][0] }}}}",
            window_end=f"{{{{ params.windows[{index}][1] }}}}",
            deferrable=True,
            poll_interval=2,
        )
