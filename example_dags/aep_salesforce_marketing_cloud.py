"""Seed 003: connect Salesforce Marketing Cloud to AEP (on Azure or on AWS), then a dataflow from it."""

from __future__ import annotations

from _common import (
    DAY_AFTER_RUN_EPOCH,
    DEFAULT_ARGS,
    PREFIX,
    SANDBOX,
    START_DATE,
    name_prefix_param,
    sandbox_param,
)
from airflow.sdk import DAG, Param, task

from airflow_provider_aep.building_blocks import PERSON_DETAILS_FIELD_GROUP, source_to_dataset
from airflow_provider_aep.operators import AEPCreateBaseConnectionOperator

PLATFORMS = ("azure", "aws")
#: The two authentications of the tutorial: Azure (client id/secret + host), AWS (OAuth2 + subdomain).
SOURCE_PRESETS = {
    "azure": "salesforce_marketing_cloud_azure",
    "aws": "salesforce_marketing_cloud_aws",
}
CONTACT_COLUMNS = [
    {"name": "SubscriberKey", "type": "string", "xdm": {"type": "string"}},
    {"name": "FirstName", "type": "string", "xdm": {"type": "string"}},
    {"name": "LastName", "type": "string", "xdm": {"type": "string"}},
]


@task.branch
def choose_platform(platform: str) -> str:
    """Follow the tutorial's section for the platform Experience Platform runs on."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform: must be one of {', '.join(PLATFORMS)}, got {platform!r}")
    return f"create_base_connection_{platform}"


with DAG(
    dag_id="aep_salesforce_marketing_cloud",
    description="Salesforce Marketing Cloud account and dataflow, on AEP for Azure or for AWS",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["aep", "batch", "salesforce-marketing-cloud", "tutorial"],
    params={
        "name_prefix": name_prefix_param("Airflow SFMC"),
        "sandbox": sandbox_param(),
        "platform": Param(
            "azure",
            enum=list(PLATFORMS),
            title="Experience Platform runs on",
            description=(
                "azure: 'Client-Id-Secret Based Authentication' (clientId, clientSecret, host); "
                "aws: 'OAuth2 Client Credential' (clientId, clientSecret, subdomain). Credentials come from "
                "the Airflow connection sfmc_default (login, password, host, extra subdomain)."
            ),
        ),
        "table_name": Param(
            "Contacts", type="string", title="Source object", description="Marketing Cloud object to read."
        ),
    },
    doc_md="""
### Connect Salesforce Marketing Cloud to Experience Platform (Adobe tutorial 003)

The tutorial has two base connections, one per cloud Experience Platform runs on: the `platform`
param chooses. **Azure**: `auth.specName` "Client-Id-Secret Based Authentication" with `host`,
`clientId`, `clientSecret`; **AWS**: "OAuth2 Client Credential" with `subdomain`, `clientId`,
`clientSecret`. Both take the credentials from the Airflow connection `sfmc_default` (login = client
id, password = client secret, host, extra `subdomain`), never from this file.

Then, as the tutorial's last step says, a dataflow from that account: source connection, target
schema and dataset, target connection, mapping, the `CRMToAEP` flow spec and a dataflow scheduled
`once`, whose single run AEP starts a day later (or trigger runs with
`AEPTriggerFlowRunOperator`, as `aep_payments_batch` does).
""",
) as dag:
    branch = choose_platform("{{ params.platform }}")
    base_connections = [
        AEPCreateBaseConnectionOperator(
            task_id=f"create_base_connection_{platform}",
            name=f"{PREFIX} base connection for {platform}",
            description=f"Salesforce Marketing Cloud base connection for {platform}",
            source=preset,
            source_conn_id="sfmc_default",
            sandbox=SANDBOX,
        )
        for platform, preset in SOURCE_PRESETS.items()
    ]
    branch >> base_connections
    # Then, as the tutorial's last step says, a dataflow from that account: the source connection (of
    # the branch's account: it runs once either base connection task succeeded), the contacts schema,
    # dataset, target connection and mapping, the CRMToAEP flow spec look-up and the dataflow.
    setup = source_to_dataset(
        name_prefix=PREFIX,
        source="salesforce_marketing_cloud",
        base_connection_id="{{ ti.xcom_pull(task_ids='create_base_connection_' ~ params.platform) }}",
        table_name="{{ params.table_name }}",
        columns=CONTACT_COLUMNS,
        field_group_ids=[PERSON_DETAILS_FIELD_GROUP],
        mappings=[
            {"sourceAttribute": "SubscriberKey", "destinationXdmPath": "_id", "identity": False},
            {
                "sourceAttribute": "FirstName",
                "destinationXdmPath": "person.name.firstName",
                "identity": False,
            },
            {"sourceAttribute": "LastName", "destinationXdmPath": "person.name.lastName", "identity": False},
        ],
        # AEP runs a `once` dataflow at its startTime: tomorrow, leaving a day to check it in the AEP UI.
        schedule_params={"startTime": DAY_AFTER_RUN_EPOCH, "frequency": "once"},
        names={
            "source_connection": f"{PREFIX} {{{{ params.platform }}}} source connection",
            "schema": f"{PREFIX} contacts schema",
            "dataset": f"{PREFIX} contacts dataset",
            "target_connection": f"{PREFIX} contacts target connection",
            "dataflow": f"{PREFIX} {{{{ params.platform }}}} dataflow",
        },
        descriptions={"dataflow": "Salesforce Marketing Cloud contacts into Platform"},
        task_kwargs={"source_connection": {"trigger_rule": "none_failed_min_one_success"}},
        sandbox=SANDBOX,
        group_id="contacts_setup",
        prefix_group_id=False,
    )
    base_connections >> setup.source_connection
