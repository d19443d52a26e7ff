"""Seed 000: a streaming source connection and dataflow for Shopify data, fed one sample order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_ARGS,
    PREFIX,
    SANDBOX,
    START_DATE,
    count_streaming_records,
    name_prefix_param,
    sandbox_param,
    wait_for_streaming_records,
)
from airflow.sdk import DAG, task

from airflow_provider_aep.building_blocks import PERSON_DETAILS_FIELD_GROUP, source_to_dataset
from airflow_provider_aep.operators import AEPGetDataflowOperator, AEPSendStreamingEventsOperator

SAMPLE_ORDER = Path(__file__).parent / "data" / "shopify_order.json"


@task
def load_sample_order() -> dict[str, Any]:
    """The order webhook body of the tutorial's example (read at run time, not when the DAG is parsed)."""
    order: dict[str, Any] = json.loads(SAMPLE_ORDER.read_text())
    return order


with DAG(
    dag_id="aep_shopify_streaming",
    description="Shopify orders streamed into AEP through a webhook inlet",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["aep", "streaming", "shopify", "tutorial"],
    params={"name_prefix": name_prefix_param("Airflow Shopify"), "sandbox": sandbox_param()},
    doc_md="""
### Create a Shopify streaming source connection and dataflow (Adobe tutorial 000)

One task per step of the tutorial: the streaming source connection (Shopify provider, connection spec
`e77fd9d2-...`, JSON data), the target XDM schema and dataset, the data lake target connection, the
mapping set (`firstName`/`lastName` to `person.name`), and the streaming dataflow (flow spec
`e77fde5a-...`). Then it reads the dataflow's streaming inlet URL (`inletUrl`, wherever AEP put it),
sends the tutorial's sample Shopify order to it (the order a Shopify webhook would post, sent through
the inlet's batch endpoint `/collection/batch/<inlet id>` as one message: a failed or unanswered
message fails the task), and waits until the record has landed in the dataflow's run.

To stream many orders, give `AEPSendStreamingEventsOperator` a JSON-lines file (`events_path`) or an
upstream task's `.output`: events are packed up to 1 MB a request, 4 requests in flight.

Re-runs reuse every resource and send one more order.
""",
) as dag:
    # The tutorial's setup: source="shopify_streaming" stands for its connection spec, the Shopify
    # provider, JSON data and the streaming flow spec; no account (a webhook posts to the inlet).
    setup = source_to_dataset(
        name_prefix=PREFIX,
        source="shopify_streaming",
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP],
        target_data_format="json",
        mappings=[
            {
                "sourceAttribute": "firstName",
                "destinationXdmPath": "person.name.firstName",
                "identity": False,
            },
            {"sourceAttribute": "lastName", "destinationXdmPath": "person.name.lastName", "identity": False},
        ],
        names={
            "source_connection": f"{PREFIX} streaming source connection",
            "target_connection": f"{PREFIX} streaming target connection",
            "dataflow": f"{PREFIX} streaming dataflow",
        },
        descriptions={
            "source_connection": "Shopify Streaming Source Connection",
            "schema": "Shopify customers and orders",
            "target_connection": "Shopify Streaming Target Connection",
            "dataflow": "Shopify Streaming Dataflow",
        },
        sandbox=SANDBOX,
        group_id="streaming_setup",
        prefix_group_id=False,
    )
    dataflow = setup.dataflow
    get_dataflow = AEPGetDataflowOperator(task_id="get_dataflow", flow_id=dataflow.output, sandbox=SANDBOX)
    records_before = count_streaming_records(dataflow.output, SANDBOX)
    send_order = AEPSendStreamingEventsOperator(
        task_id="send_sample_order",
        inlet_url="{{ ti.xcom_pull(task_ids='get_dataflow', key='inlet_url') }}",
        events=load_sample_order(),
    )
    get_dataflow >> records_before >> send_order
    wait_for_streaming_records.override(task_id="wait_until_landed")(
        dataflow.output, records_before, send_order.output, SANDBOX
    )
