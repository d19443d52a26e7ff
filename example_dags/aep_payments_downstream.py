"""Downstream of seed 001: a DAG the payments ingestion triggers, reading what landed from the asset event."""

from __future__ import annotations

from typing import Any

from _common import DEFAULT_ARGS, PAYMENTS_DATASETS, START_DATE
from airflow.sdk import DAG, task

with DAG(
    dag_id="aep_payments_downstream",
    description="Runs after each ingestion into the payments dataset and reads the run from its asset event",
    schedule=[PAYMENTS_DATASETS],
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["aep", "assets", "paypal", "tutorial"],
    doc_md="""
### Downstream of the payments ingestion (tutorial 001, assets)

Scheduled on the asset alias `aep_payments_datasets`: each time `aep_payments_batch` has ingested a
window (its `wait_for_run` sensor succeeded), the scheduler starts this DAG. The asset event names the
AEP dataset (`aep://<org>/<sandbox>/datasets/<dataset id>`) and its `extra` says what landed:
`flow_id`, `run_id` (and `run_ids`), `window_start`/`window_end` (epoch seconds), `input_records`,
`output_records`, `failed_records` and the Catalog `batch_ids`.

`summarize_ingestions` reads them from `triggering_asset_events`, logs one line per ingestion and
returns them (XCom): where a real pipeline would query the new batches, export them or refresh a
report. Triggered by hand (no asset event), it has nothing to read and says so.

With a dataset whose id you know, schedule on the asset itself instead:
`schedule=[aep_dataset_asset("<dataset id>", sandbox="prod", org_id="<org>@AdobeOrg")]`.
""",
) as dag:

    @task
    def summarize_ingestions(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One summary per asset event that triggered this run (none when triggered by hand)."""
        events = (triggering_asset_events or {}).get(PAYMENTS_DATASETS, [])
        summaries = []
        for event in events:
            extra = dict(event.extra or {})
            summary = {
                "dataset": event.asset.uri,
                "source": f"{event.source_dag_id}/{event.source_run_id}/{event.source_task_id}",
                **extra,
            }
            print(
                f"{summary['dataset']}: AEP run {extra.get('run_id')} of dataflow {extra.get('flow_id')} "
                f"wrote {extra.get('output_records')} record(s) ({extra.get('failed_records')} failed) "
                f"over [{extra.get('window_start')}, {extra.get('window_end')}), "
                f"batches {extra.get('batch_ids')}"
            )
            summaries.append(summary)
        if not summaries:
            print("No asset event: this run was not triggered by an ingestion.")
        return summaries

    summarize_ingestions()
