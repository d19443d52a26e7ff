"""The Flow Service base connection (a source account), with credentials from an Airflow connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators.arguments import check_dict, is_template, json_dict
from airflow_provider_aep.operators.base import AEPEnsureResourceOperator
from airflow_provider_aep.operators.credentials import (
    SOURCE_PRESET_NAMES,
    SourceAuthPreset,
    auth_password_params,
    check_credential_fields,
    check_no_secret_literals,
    masked_secrets,
    read_source_credentials,
    source_preset,
)
from airflow_provider_aep.operators.resources import ResourceKind

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg


class AEPCreateBaseConnectionOperator(AEPEnsureResourceOperator):
    """Ensure a base connection (a source account): ``POST /connections``; returns its id.

    The source's credentials come from an Airflow connection, never from DAG code: with
    ``source="paypal"`` or ``"salesforce_marketing_cloud_azure"`` the connection's login, password
    and host become ``clientId``, ``clientSecret`` and ``host``; with
    ``"salesforce_marketing_cloud_aws"`` the extra ``subdomain`` replaces the host
    (``source="salesforce_marketing_cloud"`` with ``auth_spec_name`` says the same). Any other source:
    give ``connection_spec_id``, ``auth_spec_name`` and ``credential_fields``. Secrets are masked in
    logs, redacted from errors and never pushed to XCom: what the password field holds, every
    parameter with a secret-looking name (``clientSecret``, ``sasUri``, ``sasToken``,
    ``connectionString``...), every parameter the connection spec's ``authSpec`` marks
    ``format: password`` (the spec is read before the create), and any shared access signature
    (a value with ``sig=``).

    XCom: return value = base connection id; ``etag``; ``created`` (False when reused).

    :param name: the base connection name, looked up on re-runs (templated).
    :param source_conn_id: Airflow connection holding the source's credentials (templated).
    :param source: ``paypal``, ``salesforce_marketing_cloud`` (with ``auth_spec_name``),
        ``salesforce_marketing_cloud_azure``, ``salesforce_marketing_cloud_aws``, or ``None`` for another
        source (:mod:`airflow_provider_aep.sources`).
    :param connection_spec_id: the source's connection spec id (other sources; templated).
    :param auth_spec_name: ``auth.specName`` (other sources; templated).
    :param credential_fields: ``auth.params`` name -> ``login``/``password``/``host``/``schema``/``port``/
        ``extra.<key>`` of ``source_conn_id``.
    :param auth_params: non-secret ``auth.params`` given in the DAG (e.g. a host); secrets (see above)
        are refused (templated; a dict, or a rendered JSON string of one).
    :param description: optional description (templated).
    :param connection_spec_version: the connection spec version, ``1.0``.
    """

    kind = ResourceKind(
        what="base connection",
        service="flowservice",
        collection="/connections",
        identity_fields=("connectionSpec.id",),
        patchable=("description", "auth"),
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "name",
        "description",
        "source_conn_id",
        "connection_spec_id",
        "auth_spec_name",
        "auth_params",
    )
    template_fields_renderers = {"auth_params": "json"}

    def __init__(
        self,
        *,
        name: str,
        source_conn_id: str,
        source: str | None = None,
        connection_spec_id: IdArg | None = None,
        auth_spec_name: str | None = None,
        credential_fields: Mapping[str, str] | None = None,
        auth_params: Mapping[str, Any] | str | None = None,
        description: str | None = None,
        connection_spec_version: str = "1.0",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is not None:
            from airflow_provider_aep.sources import preset_value

            if not is_template(auth_spec_name):
                source_preset(source, auth_spec_name)  # an unknown source or missing auth fails here
            connection_spec_id = preset_value(source, connection_spec_id, "connection_spec_id")
        elif not (connection_spec_id and auth_spec_name and credential_fields):
            raise AEPConfigError(
                f"source: give one of {', '.join(SOURCE_PRESET_NAMES)}, "
                "or connection_spec_id, auth_spec_name and credential_fields"
            )
        if credential_fields is not None:
            check_credential_fields(credential_fields)
        check_dict(auth_params, "auth_params", "a dict of non-secret auth.params")
        check_no_secret_literals(auth_params if isinstance(auth_params, Mapping) else {})
        self.name = name
        self.source_conn_id = source_conn_id
        self.source = source
        self.connection_spec_id = connection_spec_id
        self.auth_spec_name = auth_spec_name
        self.credential_fields = dict(credential_fields or {})
        self.auth_params: Any = dict(auth_params) if isinstance(auth_params, Mapping) else auth_params
        self.description = description
        self.connection_spec_version = connection_spec_version

    def preset(self) -> SourceAuthPreset:
        if self.source is None:
            return SourceAuthPreset(
                str(self.connection_spec_id), str(self.auth_spec_name), self.credential_fields
            )
        preset = source_preset(self.source, self.auth_spec_name or None)
        fields = {**preset.credential_fields, **self.credential_fields}
        return SourceAuthPreset(
            str(self.connection_spec_id or preset.connection_spec_id), preset.spec_name, fields
        )

    def secret_values(self) -> list[str]:
        return list(getattr(self, "_secrets", []))

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.connections import BaseConnection
        from airflow_provider_aep.models.validation import validate_request

        auth_params = json_dict(self.auth_params, "auth_params", "a dict of non-secret auth.params") or {}
        check_no_secret_literals(auth_params)  # again: templates may have changed the names
        preset = self.preset()
        wanted = {key: field for key, field in preset.credential_fields.items() if key not in auth_params}
        credentials = read_source_credentials(self.source_conn_id, wanted)
        body = {
            "name": self.name,
            "description": self.description,
            "auth": {"specName": preset.spec_name, "params": {**auth_params, **credentials.params}},
            "connectionSpec": {"id": preset.connection_spec_id, "version": self.connection_spec_version},
        }
        payload = validate_request(BaseConnection, body, "base connection").to_payload()
        # Valid: now ask the connection spec which parameters AEP itself treats as passwords.
        password_params = auth_password_params(self.hook, preset.connection_spec_id, preset.spec_name)
        check_no_secret_literals(auth_params, secret_params=password_params)
        self._secrets = [*credentials.secrets, *masked_secrets(credentials.params, password_params)]
        return payload
