"""Test DAGs of ``tests/e2e/test_assets.py``: an ingestion with a concrete AEP dataset asset in its
outlets (run operator deferred, sensor poking, sensor deferred), and a DAG scheduled on that asset.

The dataflow, its dataset and the windows come from ``aep_assets_e2e.json`` beside this file, written by
the test once the dataflow exists; without it the file defines no DAG.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator, task

from airflow_provider_aep.assets import aep_dataset_asset
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

SETTINGS = Path(__file__).with_suffix(".json")

if SETTINGS.exists():
    settings = json.loads(SETTINGS.read_text())
    DATASET = aep_dataset_asset(settings["dataset_id"], sandbox="prod", org_id=settings["org_id"])
    windows = settings["windows"]

    # One after the other: Airflow folds events that arrive while a consumer run is being queued into
    # the next run, so spaced events each get their own run of the consumer.
    # Retries, as docs/howto/waiting.md advises: with 2 s polls a trigger can fire seconds after the task
    # deferred, and Airflow 3.3.2's scheduler may then fail the resumed task on the late executor event
    # of the deferring process (apache/airflow 72716); the retry reuses the window's flow run.
    retries = {"retries": 2, "retry_delay": timedelta(seconds=2)}
    with DAG(dag_id="aep_assets_ingest", schedule=None, tags=["aep", "e2e"], default_args=retries):
        common: dict[str, Any] = {"flow_id": settings["flow_id"], "delta_column": "Update_Time"}
        previous: BaseOperator = AEPTriggerFlowRunOperator(
            task_id="run_deferred",
            window_start=windows[0][0],
            window_end=windows[0][1],
            deferrable=True,
            poll_interval=2,
            outlets=[DATASET],
            **common,
        )
        for index, (task_id, deferrable) in enumerate((("wait_poke", False), ("wait_deferred", True)), 1):
            start = AEPTriggerFlowRunOperator(
                task_id=f"start_{task_id}",
                window_start=windows[index][0],
                window_end=windows[index][1],
                wait_for_completion=False,
                **common,
            )
            wait = AEPFlowRunSensor(
                task_id=task_id,
                flow_run_id=start.output,
                deferrable=deferrable,
                poke_interval=2,
                timeout=600,
                outlets=[DATASET],
            )
            previous >> start >> wait
            previous = wait

    with DAG(dag_id="aep_assets_consumer", schedule=[DATASET], tags=["aep", "e2e"]):

        @task
        def read_events(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            """What each triggering event of the dataset says, with the task that emitted it."""
            return [
                {"uri": event.asset.uri, "source_task_id": event.source_task_id, "extra": dict(event.extra)}
                for event in triggering_asset_events[DATASET]
            ]

        read_events()
