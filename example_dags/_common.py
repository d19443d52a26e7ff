"""What the example DAGs share: AEP's fixed ids from the tutorials, common params, the steps they repeat.

Nothing here does any work at import time: the scheduler imports DAG files constantly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from airflow.sdk import AssetAlias, Param, XComArg, task

from airflow_provider_aep.operators import (
    AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSchemaOperator,
    AEPCreateTargetConnectionOperator,
)
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

#: Fixed ids the tutorials give (seeds 000-004; ``AEP_API_NOTES.md`` section 3).
DATA_LAKE_CONNECTION_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
PAYPAL_CONNECTION_SPEC_ID = "221c7626-58f6-4eec-8ee2-042b0226f03b"
SFMC_CONNECTION_SPEC_ID = "ea1c2a08-b722-11eb-8529-0242ac130003"
SHOPIFY_STREAMING_CONNECTION_SPEC_ID = "e77fd9d2-22a8-11ed-861d-0242ac120002"
SHOPIFY_STREAMING_FLOW_SPEC_ID = "e77fde5a-22a8-11ed-861d-0242ac120002"
SHOPIFY_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
PROFILE_CLASS = "https://ns.adobe.com/xdm/context/profile"
PERSON_DETAILS_FIELD_GROUP = "https://ns.adobe.com/xdm/context/profile-person-details"
PERSONAL_DETAILS_FIELD_GROUP = "https://ns.adobe.com/xdm/context/profile-personal-details"
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


def _given(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that are not ``None``: the others keep the operator's own default."""
    return {name: value for name, value in kwargs.items() if value is not None}


class XdmDestination(NamedTuple):
    """The tasks :func:`xdm_destination` creates; each one's ``.output`` is the resource's id."""

    schema: AEPCreateSchemaOperator
    dataset: AEPCreateDatasetOperator
    target_connection: AEPCreateTargetConnectionOperator
    mapping_set: AEPCreateMappingSetOperator


def xdm_destination(
    *,
    schema_title: str,
    dataset_name: str,
    target_connection_name: str,
    mappings: Sequence[Mapping[str, Any]],
    schema_description: str | None = None,
    field_group_ids: Sequence[str] | None = None,
    target_connection_description: str | None = None,
    data_format: str | None = None,
) -> XdmDestination:
    """The tutorials' destination steps, called inside a ``with DAG(...)`` block.

    One task each, in this order: the target XDM schema (profile class and ``field_group_ids``,
    ``create_target_schema``), its dataset (``create_target_dataset``), the data lake target connection
    to that dataset (``create_target_connection``) and the mapping set into the schema
    (``create_mapping_set``). Arguments left ``None`` are not passed: the operator's default applies.
    """
    schema = AEPCreateSchemaOperator(
        task_id="create_target_schema",
        title=schema_title,
        class_id=PROFILE_CLASS,
        sandbox=SANDBOX,
        **_given(description=schema_description, field_group_ids=field_group_ids),
    )
    dataset = AEPCreateDatasetOperator(
        task_id="create_target_dataset",
        name=dataset_name,
        schema_id=schema.output,
        sandbox=SANDBOX,
    )
    target_connection = AEPCreateTargetConnectionOperator(
        task_id="create_target_connection",
        name=target_connection_name,
        connection_spec_id=DATA_LAKE_CONNECTION_SPEC_ID,
        dataset_id=dataset.output,
        schema_id=schema.output,
        sandbox=SANDBOX,
        **_given(description=target_connection_description, data_format=data_format),
    )
    mapping_set = AEPCreateMappingSetOperator(
        task_id="create_mapping_set",
        schema_id=schema.output,
        mappings=mappings,
        sandbox=SANDBOX,
    )
    return XdmDestination(schema, dataset, target_connection, mapping_set)


class FlowRunAndWait(NamedTuple):
    """The tasks :func:`run_and_wait` creates."""

    run: AEPTriggerFlowRunOperator
    wait: AEPFlowRunSensor


def run_and_wait(
    *,
    flow_id: XComArg,
    run_task_id: str,
    wait_task_id: str,
    outlets: Sequence[Any] = (),
) -> FlowRunAndWait:
    """An on-demand flow run over a window, and a sensor that waits for it, inside a ``with DAG(...)``.

    The run (``run_task_id``) only starts the flow run (``wait_for_completion=False``) over the window
    (the ``window_start``/``window_end`` params, else ``WINDOW_RULE``), on the ``params.delta_column``
    column; the sensor (``wait_task_id``) pokes it every 2 seconds for up to an hour and fails on any
    outcome but success. A retry of either reuses the window's run: it never ingests the window twice.
    ``outlets`` go to the sensor: an AEP dataset asset or an ``AssetAlias`` there gets an asset event
    once the run succeeded (run, window, record counts, batches).
    """
    run = AEPTriggerFlowRunOperator(
        task_id=run_task_id,
        flow_id=flow_id,
        delta_column="{{ params.delta_column }}",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        wait_for_completion=False,
        sandbox=SANDBOX,
    )
    wait = AEPFlowRunSensor(
        task_id=wait_task_id,
        flow_run_id=run.output,
        poke_interval=2,
        timeout=3600,
        sandbox=SANDBOX,
        outlets=list(outlets),
    )
    return FlowRunAndWait(run, wait)
