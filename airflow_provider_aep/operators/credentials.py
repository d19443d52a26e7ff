"""Source credentials (PayPal, Salesforce Marketing Cloud...) read from an Airflow connection.

A base connection carries the source's own credentials in ``auth.params``. They never come from DAG
code: the operator names an Airflow connection (``source_conn_id``), and each ``auth.params`` entry
is read from one of its fields: ``login``, ``password``, ``host``, ``schema``, ``port`` or
``extra.<key>``. What is secret (read from the password, or secret by the one rule of
:mod:`~airflow_provider_aep.models.secret_params`: a secret-looking name, an ``authSpec`` parameter
marked ``format: password``, a shared access signature) is registered with Airflow's secret masker
before it goes anywhere, redacted from errors and never pushed to XCom.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models.secret_params import (
    is_secret_name,
    password_params,
    secret_strings,
)

if TYPE_CHECKING:
    from airflow_provider_aep.hooks.aep import AEPHook

CONNECTION_FIELDS = ("login", "password", "host", "schema", "port")


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
OAUTH2_CLIENT_CREDENTIAL_FIELDS = {
    "subdomain": "extra.subdomain",
    "clientId": "login",
    "clientSecret": "password",
}

#: The sources a base connection is made for by name (``source=``): the tutorials' accounts.
SOURCE_PRESET_NAMES = (
    "paypal",
    "salesforce_marketing_cloud",
    "salesforce_marketing_cloud_azure",
    "salesforce_marketing_cloud_aws",
)


def auth_fields(spec_name: str) -> Mapping[str, str]:
    """The credential fields of an ``auth.specName`` of the tutorials (empty for any other)."""
    from airflow_provider_aep import sources

    return {
        sources.CLIENT_ID_SECRET_AUTH: CLIENT_ID_SECRET_FIELDS,
        sources.OAUTH2_CLIENT_CREDENTIAL_AUTH: OAUTH2_CLIENT_CREDENTIAL_FIELDS,
    }.get(spec_name, {})


def source_preset(name: str, auth_spec_name: str | None = None) -> SourceAuthPreset:
    """The connection spec, auth spec name and credential fields of a tutorial source's base connection.

    :param name: ``paypal``, ``salesforce_marketing_cloud`` (with ``auth_spec_name``),
        ``salesforce_marketing_cloud_azure`` or ``salesforce_marketing_cloud_aws``.
    :param auth_spec_name: the ``auth.specName`` to use, for a source with more than one.
    :raises AEPConfigError: naming ``source`` or ``auth_spec_name``.
    """
    from airflow_provider_aep import sources

    preset = sources.source_preset(name)
    if not preset.auth_spec_names:
        raise AEPConfigError(
            f"source: {name} has no base connection (its source connection takes provider_id: "
            f"AEPCreateSourceConnectionOperator(source={name!r}))"
        )
    variant = sources.variant_auth_spec_name(name)
    if variant is not None and auth_spec_name not in (None, variant):
        raise AEPConfigError(
            f"auth_spec_name: source={name!r} authenticates with {variant!r}, got {auth_spec_name!r}"
        )
    spec_name = variant or auth_spec_name
    if spec_name is None and len(preset.auth_spec_names) == 1:
        spec_name = preset.auth_spec_names[0]
    if spec_name is None:
        ways = " or ".join(repr(way) for way in preset.auth_spec_names)
        variants = ", ".join(repr(v) for v, (source, _) in sources.SOURCE_VARIANTS.items() if source == name)
        raise AEPConfigError(
            f"auth_spec_name: {name} authenticates in {len(preset.auth_spec_names)} ways ({ways}: "
            f"AEP on Azure, AEP on AWS); give auth_spec_name, or source={variants}"
        )
    return SourceAuthPreset(preset.connection_spec_id, spec_name, auth_fields(spec_name))


def auth_password_params(hook: AEPHook, connection_spec_id: str, spec_name: str) -> frozenset[str]:
    """The ``auth.params`` the source's connection spec marks ``format: password`` for ``spec_name``.

    Read with ``GET /connectionSpecs/{id}``: these are secret whatever their names.
    """
    path = f"/connectionSpecs/{quote(str(connection_spec_id), safe='')}"
    return password_params(hook.get_item("flowservice", path), spec_name)


def connection_password_params(hook: AEPHook, connection: Mapping[str, Any]) -> frozenset[str]:
    """The password-format ``auth.params`` of a base connection as AEP answered it (none if unknown)."""
    spec = connection.get("connectionSpec")
    auth = connection.get("auth")
    spec_id = spec.get("id") if isinstance(spec, Mapping) else None
    spec_name = auth.get("specName") if isinstance(auth, Mapping) else None
    if not isinstance(spec_id, str) or not isinstance(spec_name, str):
        return frozenset()
    return auth_password_params(hook, spec_id, spec_name)


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


def check_no_secret_literals(
    params: Mapping[str, Any], what: str = "auth_params", secret_params: Collection[str] = ()
) -> None:
    """Refuse secret literals in DAG code: secrets belong in the Airflow connection.

    :param secret_params: the connection spec's password-format parameters, once known.
    """
    for name, value in params.items():
        if next(secret_strings({str(name): value}, secret_params), None) is not None:
            raise AEPConfigError(
                f"{what}.{name}: is a secret; put it in the source's Airflow connection "
                "(source_conn_id) and map it with credential_fields instead"
            )


def masked_secrets(
    params: Mapping[str, Any], secret_params: Collection[str] = (), *, secret: bool = False
) -> tuple[str, ...]:
    """Register every secret string of ``params`` with Airflow's secret masker, and return them.

    :param secret_params: the connection spec's password-format parameters.
    :param secret: every string of ``params`` is secret (read from a connection's password).
    """
    from airflow.sdk.log import mask_secret

    found = tuple(secret_strings(params, secret_params, secret=secret))
    for value in found:
        mask_secret(value)
    return found


@dataclass(frozen=True)
class SourceCredentials:
    """``auth.params`` read from a source's Airflow connection, and which of their values are secret.

    :param params: ``auth.params`` name -> value.
    :param secrets: the secret values (already registered with the secret masker).
    """

    params: dict[str, Any] = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False)


def read_source_credentials(
    conn_id: str, fields: Mapping[str, str], secret_params: Collection[str] = ()
) -> SourceCredentials:
    """Read ``auth.params`` from the Airflow connection ``conn_id``; secrets are masked first.

    :param conn_id: the source's Airflow connection (e.g. ``paypal_default``).
    :param fields: ``auth.params`` name -> ``login``, ``password``, ``host``, ``schema``, ``port``
        or ``extra.<key>``.
    :param secret_params: the connection spec's password-format parameters.
    :raises AEPConfigError: a mapped field is empty on the connection (named, its value never shown).
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra: Mapping[str, Any] = conn.extra_dejson or {}
    params: dict[str, Any] = {}
    secrets: list[str] = []
    missing: list[str] = []
    for param, source in fields.items():
        value = extra.get(source[6:]) if source.startswith("extra.") else getattr(conn, source, None)
        if value in (None, ""):
            missing.append(f"{param} (from {source})")
            continue
        secret_source = source == "password" or is_secret_name(source)
        as_text = value if isinstance(value, (str, Mapping, list)) else str(value)  # a numeric password
        secrets += masked_secrets({param: as_text}, secret_params, secret=secret_source)
        params[param] = value
    if missing:
        raise AEPConfigError(f"Airflow connection {conn_id!r} lacks {', '.join(missing)}")
    return SourceCredentials(params, tuple(secrets))
