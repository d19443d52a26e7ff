"""The seed 001 PayPal -> data lake dataflow, created through an ``AEPHook``, for the benchmarks.

Scheduled ``once`` ten years ahead, so it never runs by itself: a benchmark starts the on-demand runs
it measures (``POST /runs``) and nothing else happens to the dataflow meanwhile.
"""

from __future__ import annotations

import time
from typing import Any

DAY = 86_400
PAYPAL_SPEC = {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"}
DATA_LAKE_SPEC = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
CRM_TO_AEP = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}
CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
DELTA_COLUMN = {"name": "Update_Time"}


def create_paypal_dataflow(hook: Any, label: str) -> str:
    """Create the dataflow and everything it needs (each named with ``label``); return its id.

    :param hook: an ``AEPHook`` (imported by the caller, once ``aep_default`` points at the emulator).
    :param label: set in every name, so that several dataflows can live side by side (schema titles
        must be unique).
    """
    from airflow_provider_aep.models.responses import created_id

    def post(service: str, path: str, body: dict[str, Any]) -> str:
        return created_id(hook.post(service, path, json=body))

    auth = {"host": "https://api-m.sandbox.paypal.com", "clientId": "id", "clientSecret": "bench"}
    base = post(
        "flowservice",
        "/connections",
        {
            "name": f"PayPal {label}",
            "auth": {"specName": "Client-Id-Secret Based Authentication", "params": auth},
            "connectionSpec": PAYPAL_SPEC,
        },
    )
    source = post(
        "flowservice",
        "/sourceConnections",
        {
            "name": f"PayPal source {label}",
            "baseConnectionId": base,
            "data": {"format": "tabular"},
            "params": {"tableName": "PayPal.Catalog_Products"},
            "connectionSpec": PAYPAL_SPEC,
        },
    )
    schema = hook.post(
        "schemaregistry",
        "/tenant/schemas",
        json={
            "type": "object",
            "title": f"PayPal products {label}",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )["$id"]
    dataset = post(
        "catalog",
        "/dataSets",
        {"name": f"PayPal products {label}", "schemaRef": {"id": schema, "contentType": CONTENT_TYPE}},
    )
    target = post(
        "flowservice",
        "/targetConnections",
        {
            "name": f"Data lake {label}",
            "data": {"schema": {"id": schema, "version": CONTENT_TYPE}},
            "params": {"dataSetId": dataset},
            "connectionSpec": DATA_LAKE_SPEC,
        },
    )
    mapping = post(
        "conversion",
        "/mappingSets",
        {
            "version": 0,
            "xdmSchema": schema,
            "xdmVersion": "1.0",
            "mappings": [{"destinationXdmPath": "_id", "sourceAttribute": "Product_Id", "version": 0}],
        },
    )
    return post(
        "flowservice",
        "/flows",
        {
            "name": f"PayPal dataflow {label}",
            "flowSpec": CRM_TO_AEP,
            "sourceConnectionIds": [source],
            "targetConnectionIds": [target],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": DELTA_COLUMN}},
                {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}},
            ],
            "scheduleParams": {"startTime": str(int(time.time()) + 3650 * DAY), "frequency": "once"},
        },
    )
