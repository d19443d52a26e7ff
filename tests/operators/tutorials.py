"""Each tutorial (seed) as the sequence of operator calls of its DAG, run in-process.

Every value comes from the seed's own request bodies, except the ids AEP generates, which flow
from one operator's return value to the next exactly as ``.output`` would carry them.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_aep.operators import (
    AEPCreateAdhocClassOperator,
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSchemaOperator,
    AEPCreateSourceConnectionOperator,
    AEPCreateTargetConnectionOperator,
    AEPGetDataflowOperator,
    AEPGetFlowSpecOperator,
    AEPSendStreamingEventsOperator,
)
from tests.operators.helpers import run
from tests.operators.seeds import seed_bodies, seed_json_blocks

PROFILE = "https://ns.adobe.com/xdm/context/profile"
PERSON_DETAILS = "https://ns.adobe.com/xdm/context/profile-person-details"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"


class Tutorial:
    """Runs operators in order, keeping each return value and XCom push by task id."""

    def __init__(self, seed: str) -> None:
        self.bodies = seed_bodies(seed)
        self.outputs: dict[str, Any] = {}
        self.xcom: dict[str, dict[str, Any]] = {}

    def task(self, operator: Any) -> Any:
        result, pushed = run(operator)
        self.outputs[operator.task_id] = result
        self.xcom[operator.task_id] = pushed
        return result

    def paypal_account(self) -> str:
        """The PayPal base connection every payments tutorial starts from (credentials: paypal_default)."""
        return str(
            self.task(
                AEPCreateBaseConnectionOperator(
                    task_id="base_connection",
                    name="PayPal account",
                    description="PayPal account",
                    source="paypal",
                    source_conn_id="paypal_default",
                )
            )
        )

    def target_schema(self, title: str, field_groups: tuple[str, ...] = (PERSON_DETAILS,)) -> str:
        schema = AEPCreateSchemaOperator(
            task_id="target_schema", title=title, class_id=PROFILE, field_group_ids=field_groups
        )
        return str(self.task(schema))

    def dataset(self, name: str, schema_id: str, content_type: str = XED_FULL) -> str:
        dataset = AEPCreateDatasetOperator(
            task_id="dataset", name=name, schema_id=schema_id, schema_content_type=content_type
        )
        return str(self.task(dataset))

    def target_connection(self, schema_id: str, dataset_id: str) -> str:
        body = self.bodies["POST /targetConnections"]
        data = body["data"]
        target = AEPCreateTargetConnectionOperator(
            task_id="target_connection",
            name=body["name"],
            description=body.get("description"),
            dataset_id=dataset_id,
            schema_id=schema_id,
            schema_version=data["schema"].get("version"),
            data_format=data.get("format"),
        )
        return str(self.task(target))

    def mapping_set(self, schema_id: str) -> str:
        body = self.bodies["POST /mappingSets"]
        mappings = [{k: v for k, v in m.items() if v is not None} for m in body["mappings"]]
        operator = AEPCreateMappingSetOperator(
            task_id="mapping_set", schema_id=schema_id, mappings=mappings, xdm_version=body["xdmVersion"]
        )
        return str(self.task(operator))

    def dataflow(self, flow_spec_id: str, source_id: str, target_id: str, mapping_id: str) -> str:
        body = self.bodies["POST /flows"]
        steps = {step["name"]: step["params"] for step in body["transformations"]}
        dataflow = AEPCreateDataflowOperator(
            task_id="dataflow",
            name=body["name"],
            description=body.get("description"),
            flow_spec_id=flow_spec_id,
            source_connection_ids=source_id,
            target_connection_ids=[target_id],
            mapping_id=mapping_id,
            mapping_version=steps["Mapping"]["mappingVersion"],
            delta_column=steps.get("Copy", {}).get("deltaColumn"),
            schedule_params=body.get("scheduleParams"),
        )
        return str(self.task(dataflow))


def shopify_streaming(tutorial: Tutorial, send_events: bool = True) -> dict[str, str]:
    """Seed 000: Shopify streaming source -> schema, dataset, target, mapping, dataflow -> inlet."""
    source = tutorial.bodies["POST /sourceConnections"]
    source_id = tutorial.task(
        AEPCreateSourceConnectionOperator(
            task_id="source_connection",
            name=source["name"],
            description=source["description"],
            provider_id=source["providerId"],
            connection_spec_id=source["connectionSpec"]["id"],
            data_format=source["data"]["format"],
        )
    )
    schema_id = tutorial.target_schema("Shopify orders")
    dataset_id = tutorial.dataset("Shopify orders", schema_id)
    target_id = tutorial.target_connection(schema_id, dataset_id)
    mapping_id = tutorial.mapping_set(schema_id)
    flow_spec = tutorial.bodies["POST /flows"]["flowSpec"]["id"]
    flow_id = tutorial.dataflow(flow_spec, source_id, target_id, mapping_id)
    tutorial.task(AEPGetDataflowOperator(task_id="get_dataflow", flow_id=flow_id))
    if send_events:
        order = seed_json_blocks("000")[4]  # the sample Shopify order the inlet receives
        inlet = tutorial.xcom["get_dataflow"]["inlet_url"]
        tutorial.task(AEPSendStreamingEventsOperator(task_id="send_order", inlet_url=inlet, events=[order]))
    return {
        "source": source_id,
        "schema": schema_id,
        "dataset": dataset_id,
        "target": target_id,
        "mapping": mapping_id,
        "flow": flow_id,
    }


def payments_batch(tutorial: Tutorial) -> dict[str, str]:
    """Seed 001: payments (PayPal) tabular source -> ... -> dataflow scheduled every 30 minutes."""
    base_id = tutorial.paypal_account()
    source = tutorial.bodies["POST /sourceConnections"]
    source_id = tutorial.task(
        AEPCreateSourceConnectionOperator(
            task_id="source_connection",
            name=source["name"],
            description=source["description"],
            base_connection_id=base_id,
            connection_spec_id=source["connectionSpec"]["id"],
            data_format=source["data"]["format"],
            table_name=source["params"]["tableName"],
            columns=source["params"]["columns"],
        )
    )
    schema_id = tutorial.target_schema(f"Target schema for {source['name']}")
    dataset_id = tutorial.dataset(f"Target dataset for {source['name']}", schema_id)
    target_id = tutorial.target_connection(schema_id, dataset_id)
    mapping_id = tutorial.mapping_set(schema_id)
    flow_spec_id = tutorial.task(AEPGetFlowSpecOperator(task_id="flow_spec", name="CRMToAEP"))
    flow_id = tutorial.dataflow(flow_spec_id, source_id, target_id, mapping_id)
    return {
        "base": base_id,
        "source": source_id,
        "schema": schema_id,
        "dataset": dataset_id,
        "target": target_id,
        "mapping": mapping_id,
        "flow": flow_id,
    }


def salesforce_marketing_cloud(tutorial: Tutorial) -> dict[str, str]:
    """Seed 003: the Salesforce Marketing Cloud account, on Azure and on AWS."""
    ids = {}
    for key, platform, conn_id in (
        ("POST /connections", "azure", "sfmc_azure"),
        ("POST /connections#2", "aws", "sfmc_aws"),
    ):
        body = tutorial.bodies[key]
        ids[platform] = tutorial.task(
            AEPCreateBaseConnectionOperator(
                task_id=f"base_connection_{platform}",
                name=body["name"],
                description=body["description"],
                source=f"salesforce_marketing_cloud_{platform}",
                source_conn_id=conn_id,
            )
        )
    return ids


def adhoc_payments(tutorial: Tutorial) -> dict[str, str]:
    """Seed 004: ad-hoc class and schema for the raw PayPal data, then the payments dataflow."""
    base_id = tutorial.paypal_account()
    columns = {"Product_Id": "string", "Product_Name": "string", "Description": "string", "Type": "string"}
    class_id = tutorial.task(
        AEPCreateAdhocClassOperator(task_id="adhoc_class", title="PayPal products (ad-hoc)", fields=columns)
    )
    adhoc_schema_id = tutorial.task(
        AEPCreateSchemaOperator(
            task_id="adhoc_schema", title="PayPal products ad-hoc schema", class_id=class_id
        )
    )
    source = tutorial.bodies["POST /sourceConnections"]
    source_id = tutorial.task(
        AEPCreateSourceConnectionOperator(
            task_id="source_connection",
            name=source["name"],
            description=source["description"],
            base_connection_id=base_id,
            connection_spec_id=source["connectionSpec"]["id"],
            data_format=source["data"]["format"],
            path=source["params"]["path"],
            source_schema_id=adhoc_schema_id,
            source_schema_version=source["data"]["schema"]["version"],
        )
    )
    schema_body = tutorial.bodies["POST /tenant/schemas"]
    refs = [entry["$ref"] for entry in schema_body["allOf"]]
    extra = {key: value for key, value in schema_body.items() if key.startswith("meta:")}
    schema_id = tutorial.task(
        AEPCreateSchemaOperator(
            task_id="target_schema",
            title=schema_body["title"],
            description=schema_body["description"],
            class_id=refs[0],
            field_group_ids=refs[1:],
            extra_fields=extra,
        )
    )
    dataset_body = tutorial.bodies["POST /dataSets"]
    dataset_id = tutorial.dataset(dataset_body["name"], schema_id, dataset_body["schemaRef"]["contentType"])
    target_id = tutorial.target_connection(schema_id, dataset_id)
    mapping_id = tutorial.mapping_set(schema_id)
    flow_spec_id = tutorial.task(AEPGetFlowSpecOperator(task_id="flow_spec", name="CRMToAEP"))
    flow_id = tutorial.dataflow(flow_spec_id, source_id, target_id, mapping_id)
    return {
        "base": base_id,
        "class": class_id,
        "adhoc_schema": adhoc_schema_id,
        "source": source_id,
        "schema": schema_id,
        "dataset": dataset_id,
        "target": target_id,
        "mapping": mapping_id,
        "flow": flow_id,
    }


TUTORIALS = {
    "000": shopify_streaming,
    "001": payments_batch,
    "003": salesforce_marketing_cloud,
    "004": adhoc_payments,
}
