"""What the example DAGs share: common params and templates, the PayPal table, the streaming checks.

The steps they repeat are the provider's building blocks (``airflow_provider_aep.building_blocks``:
``source_to_dataset``, ``run_and_wait``), and the sources' ids its presets (``source="paypal"``).
Nothing here does any work at import time: the scheduler imports DAG files constantly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import AssetAlias, Param, task

#: The content type of a schema sent without its text (tutorial 004's ad-hoc schema).
XED_NOTEXT = "application/vnd.adobe.xed-full-notext+json; version=1"

#: The first day the example DAGs have data for; ``catchup`` is off, so only backfills go back.
START_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: Every AEP operator is idempotent: a create task reuses what an earlier try created, and a flow run
#: task reuses the run of its window that has not failed, so retrying a task never duplicates a
#: resource or an ingestion. Retries let a run survive a transient failure, e.g. the Airflow API
#: server still starting when the first scheduled run begins (``make standalone``).
DEFAULT_ARGS: dict[str, Any] = {"owner": "aep", "retries": 2, "retry_delay": timedelta(seconds=15)}

#: Every resource a DAG ensures is named from its ``name_prefix`` param (re-runs reuse them).
PREFIX = "{{ params.name_prefix }}"
#: ``sandbox=`` of every AEP task: the param, or the ``aep_default`` connection's sandbox when empty.
SANDBOX = "{{ params.sandbox or '' }}"
#: A flow run window: the ``window_start``/``window_end`` params; empty lets the operator choose (see
#: ``WINDOW_RULE``). No template here may read ``data_interval_*``, ``logical_date``, ``ds`` or any
#: other value a DAG run triggered without a logical date (CLI, REST API) does not have.
WINDOW_START = "{{ params.window_start or '' }}"
WINDOW_END = "{{ params.window_end or '' }}"
#: The window a flow run ingests when ``window_start``/``window_end`` are empty (Markdown, for doc_md).
WINDOW_RULE = (
    "The window params, else the DAG run's data interval (scheduled runs, backfills), else, for a run "
    "without one (triggered from the UI, `airflow dags trigger` or the REST API without a logical "
    "date), the last full UTC day before the run's logical date, or before its `run_after` when it "
    "has none: `[midnight - 1 day, midnight)`."
)
#: The DAG run's own time in epoch seconds: every run has ``run_after``, with or without a logical date.
RUN_AFTER_EPOCH = "{{ dag_run.run_after.timestamp() | int }}"
#: A day after the DAG run, in epoch seconds (the first run of an AEP-scheduled dataflow).
DAY_AFTER_RUN_EPOCH = "{{ (dag_run.run_after + macros.timedelta(days=1)).timestamp() | int }}"

#: The datasets ``aep_payments_batch`` ingests into, whatever its ``name_prefix`` made: its wait task adds an
#: asset event for each (``aep://<org>/<sandbox>/datasets/<id>``), and ``aep_payments_downstream`` is
#: scheduled on it.
PAYMENTS_DATASETS = AssetAlias("aep_payments_datasets")

#: Seeds 001/002/004: the PayPal products table, its columns as the source connection lists them.
PAYPAL_TABLE = "PayPal.Catalog_Products"
PAYPAL_COLUMNS: list[dict[str, Any]] = [
    {"name": "Product_Id", "type": "string", "xdm": {"type": "string"}},
    {"name": "Product_Name", "type": "string", "xdm": {"type": "string"}},
    {"name": "Description", "type": "string", "xdm": {"type": "string"}},
    {
        "name": "Create_Time",
        "type": "string",
        "meta:xdmType": "date-time",
        "xdm": {"type": "string", "format": "date-time"},
    },
]
#: Seeds 001/002/004: the products mapping (legacy Data Prep shape, as in the tutorials).
PAYPAL_MAPPINGS: list[dict[str, Any]] = [
    {"destinationXdmPath": "_id", "sourceAttribute": "Product_Id", "identity": False, "version": 0},
    {
        "destinationXdmPath": "product.name",
        "sourceAttribute": "Product_Name",
        "identity": False,
        "version": 0,
    },
    {
        "destinationXdmPath": "product.description",
        "sourceAttribute": "Description",
        "identity": False,
        "version": 0,
    },
    {"destinationXdmPath": "product.type", "sourceAttribute": "Type", "identity": False, "version": 0},
]


def sandbox_param() -> Param:
    """The ``sandbox`` param every example DAG has."""
    # Nullable: the trigger form marks a field whose type excludes null as required, even with "" default.
    return Param(
        None,
        type=["null", "string"],
        title="Sandbox",
        description="AEP sandbox to work in (e.g. prod, dev). Empty: the aep_default connection's sandbox.",
    )


def name_prefix_param(default: str) -> Param:
    """The ``name_prefix`` param: every resource the DAG ensures is named from it (re-runs reuse them)."""
    return Param(
        default,
        type="string",
        minLength=1,
        title="Resource name prefix",
        description=(
            "Prefix of the names of every AEP resource this DAG creates, e.g. '<prefix> dataflow'. "
            "Re-runs with the same prefix reuse them; a new prefix builds a new set."
        ),
    )


def paypal_table_param() -> Param:
    """The ``table_name`` param of the PayPal DAGs: the table to read (``PayPal.Catalog_Products``)."""
    return Param(
        PAYPAL_TABLE, type="string", title="Source table", description="PayPal table the dataflow reads."
    )


def delta_column_param(
    description: str = "Source column that dates each row: a flow run ingests the rows of its window.",
) -> Param:
    """The ``delta_column`` param: the source column a flow run's window filters on (``Update_Time``)."""
    return Param("Update_Time", type="string", title="Delta column", description=description)


def window_params() -> dict[str, Param]:
    """``window_start``/``window_end``: override the flow run's data window (default: ``WINDOW_RULE``)."""
    empty = (
        "Empty: the run's data interval, else (a run without one, e.g. triggered without a logical date) "
        "the last full UTC day before the run."
    )
    return {
        "window_start": Param(
            None,
            type=["null", "string"],
            title="Window start",
            description=f"Start of the data window to ingest (ISO date-time). {empty}",
        ),
        "window_end": Param(
            None,
            type=["null", "string"],
            title="Window end",
            description=f"End of the data window to ingest (ISO date-time). {empty}",
        ),
    }


def streaming_records(flow_id: str, sandbox: str | None) -> int:
    """Records the runs of a streaming dataflow have written so far (``recordSummary.outputRecordCount``).

    :param flow_id: the streaming dataflow.
    :param sandbox: the sandbox, or ``None``/empty for the connection's.
    """
    from airflow_provider_aep.hooks.aep import AEPHook
    from airflow_provider_aep.hooks.paging import property_filter

    hook = AEPHook(sandbox=sandbox or None)
    total = 0
    for run in hook.iter_items("flowservice", "/runs", {"property": property_filter("flowId", flow_id)}):
        summary = (run.get("metrics") or {}).get("recordSummary") or {}
        total += int(summary.get("outputRecordCount") or 0)
    return total


@task
def count_streaming_records(flow_id: Any, sandbox: Any = None) -> int:
    # Arguments are typed Any: at parse time TaskFlow hands this function upstream ``.output``s.
    """How many records the streaming dataflow has ingested before this DAG run sends its events."""
    return streaming_records(flow_id, sandbox)


@task.sensor(poke_interval=2, timeout=600, mode="poke")
def wait_for_streaming_records(flow_id: Any, records_before: Any, sent: Any, sandbox: Any = None) -> bool:
    """Wait until the events this DAG run sent have landed: the flow's record count grew by ``sent``."""
    return streaming_records(flow_id, sandbox) >= int(records_before) + int(sent)
