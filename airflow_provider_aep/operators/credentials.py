"""Source credentials (PayPal, Salesforce Marketing Cloud...) read from an Airflow connection.

A base connection carries the source's own credentials in ``auth.params``. They never come from DAG
code: the operator names an Airflow connection (``source_conn_id``), and each ``auth.params`` entry
is read from one of its fields: ``login``, ``password``, ``host``, ``schema``, ``port`` or
``extra.<key>``. What is read from the password or a secret-looking extra is registered with
Airflow's secret masker before it goes anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_aep.exceptions import AEPConfigError

CONNECTION_FIELDS = ("login", "password", "host", "schema", "port")
_SECRET_WORDS = ("secret", "password", "passwd", "token", "key", "credential", "signature")


@dataclass(frozen=True)
class SourceAuthPreset:
    """How one source's base connection is authenticated.

    :param connection_spec_id: the source's connection spec id.
    :param spec_name: ``auth.specName``.
    :param credential_fields: ``auth.params`` name -> Airflow connection field it is read from.
    """

    connection_spec_id: str
    spec_name: str
    credential_fields: Mapping[str, str]


CLIENT_ID_SECRET_FIELDS = {"host": "host", "clientId": "login", "clientSecret": "password"}

#: The sources of the tutorials, for ``source=<name>`` on the base connection operator.
SOURCE_PRESET_NAMES = ("paypal", "salesforce_marketing_cloud_azure", "salesforce_marketing_cloud_aws")


def source_preset(name: str) -> SourceAuthPreset:
    """The connection spec, auth spec name and credential fields of a tutorial source.

    :param name: ``paypal``, ``salesforce_marketing_cloud_azure`` or ``salesforce_marketing_cloud_aws``.
    """
    from airflow_provider_aep.models import connections as spec

    presets = {
        "paypal": SourceAuthPreset(
            spec.PAYPAL_CONNECTION_SPEC_ID, spec.CLIENT_ID_SECRET_AUTH, CLIENT_ID_SECRET_FIELDS
        ),
        "salesforce_marketing_cloud_azure": SourceAuthPreset(
            spec.SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID,
            spec.CLIENT_ID_SECRET_AUTH,
            CLIENT_ID_SECRET_FIELDS,
        ),
        "salesforce_marketing_cloud_aws": SourceAuthPreset(
            spec.SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID,
            spec.OAUTH2_CLIENT_CREDENTIAL_AUTH,
            {"subdomain": "extra.subdomain", "clientId": "login", "clientSecret": "password"},
        ),
    }
    try:
        return presets[name]
    except KeyError:
        raise AEPConfigError(
            f"source: must be one of {', '.join(SOURCE_PRESET_NAMES)}, got {name!r}"
        ) from None


def looks_secret(name: str) -> bool:
    """Whether a parameter name (``clientSecret``, ``sasToken``, ``password``) holds a secret."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def check_credential_fields(fields: Mapping[str, str], what: str = "credential_fields") -> None:
    """Refuse a mapping that names no known connection field (before any call)."""
    if not fields:
        raise AEPConfigError(f"{what}: must map at least one auth parameter to a connection field")
    for param, source in fields.items():
        if source not in CONNECTION_FIELDS and not (source.startswith("extra.") and len(source) > 6):
            raise AEPConfigError(
                f"{what}.{param}: must be one of {', '.join(CONNECTION_FIELDS)} or 'extra.<key>', "
                f"got {source!r}"
            )


def check_no_secret_literals(params: Mapping[str, Any], what: str = "auth_params") -> None:
    """Refuse secret-looking literals in DAG code: secrets belong in the Airflow connection."""
    for name in params:
        if looks_secret(str(name)):
            raise AEPConfigError(
                f"{what}.{name}: looks like a secret; put it in the source's Airflow connection "
                "(source_conn_id) and map it with credential_fields instead"
            )


def read_source_credentials(conn_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """Read ``auth.params`` from the Airflow connection ``conn_id``; secrets are masked first.

    :param conn_id: the source's Airflow connection (e.g. ``paypal_default``).
    :param fields: ``auth.params`` name -> ``login``, ``password``, ``host``, ``schema``, ``port``
        or ``extra.<key>``.
    :raises AEPConfigError: a mapped field is empty on the connection (named, its value never shown).
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    conn = BaseHook.get_connection(conn_id)
    extra: Mapping[str, Any] = conn.extra_dejson or {}
    params: dict[str, Any] = {}
    missing: list[str] = []
    for param, source in fields.items():
        value = extra.get(source[6:]) if source.startswith("extra.") else getattr(conn, source, None)
        if value in (None, ""):
            missing.append(f"{param} (from {source})")
            continue
        if source == "password" or looks_secret(param) or looks_secret(source):
            mask_secret(str(value))
        params[param] = value
    if missing:
        raise AEPConfigError(f"Airflow connection {conn_id!r} lacks {', '.join(missing)}")
    return params


def scrub_secrets(value: Any) -> Any:
    """A copy of a JSON value without the values of secret-looking keys (for XCom and logs)."""
    if isinstance(value, Mapping):
        return {
            key: "***" if looks_secret(str(key)) and isinstance(item, str) else scrub_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_secrets(item) for item in value]
    return value
