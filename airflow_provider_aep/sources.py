"""The sources of the tutorials by name: ``source="paypal"`` instead of pasting their spec ids.

Every operator that needs a source's spec id takes ``source=`` (one of :data:`SOURCE_NAMES`):
``AEPCreateBaseConnectionOperator`` (connection spec and authentication), ``AEPUpdateBaseConnectionOperator``
(credential fields), ``AEPCreateSourceConnectionOperator`` (connection spec, data format, Shopify's
provider id) and ``AEPCreateDataflowOperator`` (flow spec); the building blocks pass it on. Any other
source: give its ids instead (``connection_spec_id=``, ``flow_spec_id=``), found with
``AEPGetConnectionSpecOperator`` / ``AEPGetFlowSpecOperator`` or in Adobe's documentation.

The ids are the ones Adobe's tutorials show (the same in every org). Plain data: imported when a DAG
file is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_aep.exceptions import AEPConfigError

PAYPAL_CONNECTION_SPEC_ID = "221c7626-58f6-4eec-8ee2-042b0226f03b"
SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID = "ea1c2a08-b722-11eb-8529-0242ac130003"
SHOPIFY_STREAMING_CONNECTION_SPEC_ID = "e77fd9d2-22a8-11ed-861d-0242ac120002"
SHOPIFY_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
DATA_LAKE_CONNECTION_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
#: The ``CRMToAEP`` flow spec (CRM and payment sources to the data lake; tutorials 001, 003, 004).
CRM_TO_AEP_FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
CRM_TO_AEP_FLOW_SPEC_NAME = "CRMToAEP"
#: The streaming flow spec of tutorial 000 (``GenericStreamingAEP``).
STREAMING_FLOW_SPEC_ID = "e77fde5a-22a8-11ed-861d-0242ac120002"

CLIENT_ID_SECRET_AUTH = "Client-Id-Secret Based Authentication"
OAUTH2_CLIENT_CREDENTIAL_AUTH = "OAuth2 Client Credential"


@dataclass(frozen=True)
class SourcePreset:
    """What the tutorials tell about one source.

    :param name: its ``source=`` name.
    :param label: how people write it (``PayPal``), for resource names.
    :param connection_spec_id: its connection spec id.
    :param data_format: the source connection's ``data.format``.
    :param flow_spec_id: the flow spec of its dataflows.
    :param flow_spec_name: that flow spec's name, when the tutorial looks it up by name (``CRMToAEP``).
    :param auth_spec_names: the ``auth.specName`` its base connection may use; empty when it has no base
        connection (Shopify streaming: a webhook inlet).
    :param provider_id: the streaming provider id of its source connection (Shopify).
    """

    name: str
    label: str
    connection_spec_id: str
    data_format: str
    flow_spec_id: str
    flow_spec_name: str | None = None
    auth_spec_names: tuple[str, ...] = ()
    provider_id: str | None = None


SOURCES: dict[str, SourcePreset] = {
    "paypal": SourcePreset(
        "paypal",
        "PayPal",
        PAYPAL_CONNECTION_SPEC_ID,
        "tabular",
        CRM_TO_AEP_FLOW_SPEC_ID,
        CRM_TO_AEP_FLOW_SPEC_NAME,
        (CLIENT_ID_SECRET_AUTH,),
    ),
    "salesforce_marketing_cloud": SourcePreset(
        "salesforce_marketing_cloud",
        "Salesforce Marketing Cloud",
        SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID,
        "tabular",
        CRM_TO_AEP_FLOW_SPEC_ID,
        CRM_TO_AEP_FLOW_SPEC_NAME,
        (CLIENT_ID_SECRET_AUTH, OAUTH2_CLIENT_CREDENTIAL_AUTH),  # AEP on Azure, AEP on AWS
    ),
    "shopify_streaming": SourcePreset(
        "shopify_streaming",
        "Shopify",
        SHOPIFY_STREAMING_CONNECTION_SPEC_ID,
        "json",
        STREAMING_FLOW_SPEC_ID,
        provider_id=SHOPIFY_PROVIDER_ID,
    ),
}

#: The base connection's two Salesforce Marketing Cloud authentications, by name (tutorial 003).
SOURCE_VARIANTS = {
    "salesforce_marketing_cloud_azure": ("salesforce_marketing_cloud", CLIENT_ID_SECRET_AUTH),
    "salesforce_marketing_cloud_aws": ("salesforce_marketing_cloud", OAUTH2_CLIENT_CREDENTIAL_AUTH),
}

#: Every ``source=`` name.
SOURCE_NAMES: tuple[str, ...] = (*SOURCES, *SOURCE_VARIANTS)


def source_preset(name: object, argument: str = "source") -> SourcePreset:
    """The preset of a source by name (a variant name gives its source's preset).

    :param argument: the argument that named it, for the error.
    :raises AEPConfigError: ``source: must be one of paypal, ..., got 'x'; for another source give
        connection_spec_id`` (or ``flow_spec_id``).
    """
    if isinstance(name, str):
        key = SOURCE_VARIANTS[name][0] if name in SOURCE_VARIANTS else name
        if key in SOURCES:
            return SOURCES[key]
    raise AEPConfigError(
        f"{argument}: must be one of {', '.join(SOURCE_NAMES)}, got {name!r}; "
        "for another source, give its spec ids instead (connection_spec_id, flow_spec_id)"
    )


def variant_auth_spec_name(name: str) -> str | None:
    """The ``auth.specName`` a variant name stands for (``salesforce_marketing_cloud_aws``), else ``None``."""
    return SOURCE_VARIANTS[name][1] if name in SOURCE_VARIANTS else None


def preset_value(source: object, given: Any, argument: str, attribute: str = "connection_spec_id") -> Any:
    """``given``, or the source preset's ``attribute`` when ``given`` is empty.

    :param argument: the argument ``given`` came from (``connection_spec_id``), for the error.
    :raises AEPConfigError: ``given`` is another id than the preset's (a template is checked by AEP later).
    """
    preset = source_preset(source)
    wanted = getattr(preset, attribute)
    if given is None or given == "":
        return wanted
    literal = isinstance(given, str) and "{{" not in given and "{%" not in given
    if literal and wanted is not None and str(given).strip().lower() != str(wanted).lower():
        raise AEPConfigError(
            f"{argument}: {given!r} is not the {preset.label} {attribute.replace('_', ' ')} ({wanted}) that "
            f"source={source!r} stands for; give one of the two"
        )
    return given
