"""Flow Service connections: base connections (accounts), source connections, target connections.

Request bodies of ``POST /connections``, ``POST /sourceConnections`` and ``POST /targetConnections``.
The base connection's ``auth`` is typed for the sources of the tutorials (PayPal, Salesforce
Marketing Cloud on Azure and on AWS) and generic for every other source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    SerializationInfo,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
)

from airflow_provider_aep.models._base import (
    REVEAL_SECRETS,
    AEPModel,
    AEPOpenModel,
    NonEmptyStr,
    Secret,
    UUIDStr,
    XedMediaType,
    raise_rule_errors,
)
from airflow_provider_aep.models.secret_params import is_secret_name, looks_like_sas_token
from airflow_provider_aep.sources import (  # the tutorials' ids, in one place
    CLIENT_ID_SECRET_AUTH,
    DATA_LAKE_CONNECTION_SPEC_ID,
    OAUTH2_CLIENT_CREDENTIAL_AUTH,
    PAYPAL_CONNECTION_SPEC_ID,
    SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID,
)

DataFormat = Literal["delimited", "json", "parquet", "tabular"]


class ConnectionSpecRef(AEPModel):
    """Which connection (or flow) spec a resource implements.

    :ivar id: the spec id, a UUID fixed per source (the data lake is ``c604ff05-...``).
    :ivar version: the spec version, ``"1.0"`` in every tutorial.
    """

    id: UUIDStr
    version: NonEmptyStr


class ClientIdSecretParams(AEPModel):
    """``auth.params`` of ``Client-Id-Secret Based Authentication`` (PayPal, SFMC on Azure).

    :ivar host: the source host (PayPal API host, SFMC subdomain host).
    :ivar clientId: the source application's client id.
    :ivar clientSecret: the source application's client secret.
    """

    host: NonEmptyStr
    clientId: NonEmptyStr
    clientSecret: Secret


class OAuth2ClientCredentialParams(AEPModel):
    """``auth.params`` of ``OAuth2 Client Credential`` (Salesforce Marketing Cloud on AWS).

    :ivar subdomain: the Marketing Cloud subdomain.
    :ivar clientId: the installed package's client id.
    :ivar clientSecret: the installed package's client secret.
    """

    subdomain: NonEmptyStr
    clientId: NonEmptyStr
    clientSecret: Secret


class PayPalAuth(AEPModel):
    """PayPal account credentials.

    :ivar specName: always ``Client-Id-Secret Based Authentication``.
    :ivar params: ``host``, ``clientId``, ``clientSecret``.
    """

    specName: Literal["Client-Id-Secret Based Authentication"]
    params: ClientIdSecretParams


class SalesforceMarketingCloudAzureAuth(AEPModel):
    """Salesforce Marketing Cloud credentials for Experience Platform on Azure.

    :ivar specName: always ``Client-Id-Secret Based Authentication``.
    :ivar params: ``host``, ``clientId``, ``clientSecret``.
    """

    specName: Literal["Client-Id-Secret Based Authentication"]
    params: ClientIdSecretParams


class SalesforceMarketingCloudAwsAuth(AEPModel):
    """Salesforce Marketing Cloud credentials for Experience Platform on AWS.

    :ivar specName: always ``OAuth2 Client Credential``.
    :ivar params: ``subdomain``, ``clientId``, ``clientSecret``.
    """

    specName: Literal["OAuth2 Client Credential"]
    params: OAuth2ClientCredentialParams


class GenericAuth(AEPModel):
    """Credentials of any other source: ``params`` is passed through as given.

    Every secret string (:mod:`~airflow_provider_aep.models.secret_params`: under a secret-looking
    name such as ``password``, ``clientSecret``, ``sasToken``, ``sasUri``, ``connectionString``, or a
    shared access signature whatever its name) is held as a :class:`~pydantic.SecretStr`, so it stays
    masked everywhere but in :meth:`to_payload`.

    :ivar specName: the authentication spec name of the source's connection spec.
    :ivar params: the credentials and settings the source asks for.
    """

    specName: NonEmptyStr
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _hide_secrets(cls, params: dict[str, Any]) -> dict[str, Any]:
        hidden = _hide(params, secret=False)
        assert isinstance(hidden, dict)
        return hidden

    @field_serializer("params")
    def _show_secrets(self, params: dict[str, Any], info: SerializationInfo) -> dict[str, Any]:
        reveal = isinstance(info.context, Mapping) and bool(info.context.get(REVEAL_SECRETS))
        shown = _show(params, reveal)
        assert isinstance(shown, dict)
        return shown


def _hide(value: Any, secret: bool) -> Any:
    if isinstance(value, str):
        return SecretStr(value) if secret or looks_like_sas_token(value) else value
    if isinstance(value, Mapping):
        return {key: _hide(item, secret or is_secret_name(str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide(item, secret) for item in value]
    return value


def _show(value: Any, reveal: bool) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value() if reveal else str(value)
    if isinstance(value, Mapping):
        return {key: _show(item, reveal) for key, item in value.items()}
    if isinstance(value, list):
        return [_show(item, reveal) for item in value]
    return value


AuthModel = PayPalAuth | SalesforceMarketingCloudAzureAuth | SalesforceMarketingCloudAwsAuth | GenericAuth

# Sources whose credentials we type, by connection spec id, then by ``auth.specName``.
_TYPED_AUTH: dict[str, tuple[str, dict[str, type[AuthModel]]]] = {
    PAYPAL_CONNECTION_SPEC_ID: ("PayPal", {CLIENT_ID_SECRET_AUTH: PayPalAuth}),
    SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID: (
        "Salesforce Marketing Cloud",
        {
            CLIENT_ID_SECRET_AUTH: SalesforceMarketingCloudAzureAuth,
            OAUTH2_CLIENT_CREDENTIAL_AUTH: SalesforceMarketingCloudAwsAuth,
        },
    ),
}


class BaseConnection(AEPModel):
    """A base connection (an account): ``POST /connections``.

    :ivar name: the connection name, unique enough to be looked up on re-runs.
    :ivar description: optional description.
    :ivar connectionSpec: the source's connection spec (PayPal ``221c7626-...``, SFMC ``ea1c2a08-...``).
    :ivar auth: ``{specName, params}``; typed for PayPal and SFMC (Azure or AWS), generic otherwise.
    """

    name: NonEmptyStr
    description: str | None = None
    # Declared before ``auth``: the auth validator reads it to pick the credentials model.
    connectionSpec: ConnectionSpecRef
    auth: AuthModel

    @field_validator("auth", mode="wrap")
    @classmethod
    def _auth_of_the_source(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> AuthModel:
        spec = info.data.get("connectionSpec")
        typed = _TYPED_AUTH.get(spec.id.lower()) if isinstance(spec, ConnectionSpecRef) else None
        if typed is None or not isinstance(value, Mapping):
            return GenericAuth.model_validate(value)
        source, by_spec_name = typed
        auth_model = by_spec_name.get(value.get("specName"))  # type: ignore[arg-type]
        if auth_model is None:
            names = " or ".join(f"'{name}'" for name in by_spec_name)
            raise_rule_errors("auth", [(("specName",), f"must be {names} for {source}")])
        return auth_model.model_validate(value)


class SourceSchemaRef(AEPModel):
    """The XDM schema describing the source data (ad-hoc schema) or the target schema.

    :ivar id: the schema ``$id``.
    :ivar version: the XDM media type, e.g. ``application/vnd.adobe.xed-full+json;version=1``.
    """

    id: NonEmptyStr
    version: XedMediaType | None = None


class SourceData(AEPOpenModel):
    """``data`` of a source connection; AEP accepts more settings (say ``properties``) than modelled.

    :ivar format: ``delimited``, ``json``, ``parquet`` (files) or ``tabular`` (tables).
    :ivar schema: optional ad-hoc schema of the source data.
    """

    format: DataFormat
    xdm_schema: SourceSchemaRef | None = Field(default=None, alias="schema")


class ColumnXdm(AEPOpenModel):
    """The XDM type a source column maps to.

    :ivar type: XDM type (``string``, ``integer``...).
    :ivar format: optional format, e.g. ``date-time``.
    """

    type: NonEmptyStr
    format: str | None = None


class SourceColumn(AEPOpenModel):
    """One column of a tabular source.

    :ivar name: the column name in the source.
    :ivar type: the column type in the source.
    :ivar xdm: the XDM type it maps to.
    :ivar meta:xdmType: optional XDM type hint (``date-time``).
    """

    name: NonEmptyStr
    type: NonEmptyStr
    xdm: ColumnXdm | None = None
    meta_xdm_type: str | None = Field(default=None, alias="meta:xdmType")


class SourceParams(AEPOpenModel):
    """``params`` of a source connection; sources accept more parameters than modelled.

    :ivar tableName: the table to read (tabular sources).
    :ivar columns: the columns to read (tabular sources).
    :ivar path: the file or object path (file sources, and PayPal in one tutorial).
    """

    tableName: NonEmptyStr | None = None
    columns: list[SourceColumn] | None = Field(default=None, min_length=1)
    path: NonEmptyStr | None = None


class SourceConnection(AEPModel):
    """A source connection: ``POST /sourceConnections``.

    :ivar name: the source connection name.
    :ivar description: optional description.
    :ivar baseConnectionId: the base connection (account) id; streaming sources have none.
    :ivar providerId: the provider id of a streaming source (Shopify streaming).
    :ivar connectionSpec: the source's connection spec.
    :ivar data: the data format and optional source schema.
    :ivar params: table, columns or path to read.
    """

    name: NonEmptyStr
    description: str | None = None
    baseConnectionId: UUIDStr | None = None
    providerId: UUIDStr | None = None
    connectionSpec: ConnectionSpecRef
    data: SourceData
    params: SourceParams | None = None


class TargetData(AEPModel):
    """``data`` of a target connection.

    :ivar format: optional data format (``json`` for streaming sources).
    :ivar schema: the target XDM schema of the dataset.
    """

    format: DataFormat | None = None
    xdm_schema: SourceSchemaRef = Field(alias="schema")


class TargetParams(AEPOpenModel):
    """``params`` of a target connection.

    :ivar dataSetId: the target dataset id (AEP rejects an unknown one).
    """

    dataSetId: NonEmptyStr


class TargetConnection(AEPModel):
    """A data lake target connection: ``POST /targetConnections``.

    :ivar name: the target connection name.
    :ivar description: optional description.
    :ivar connectionSpec: the data lake spec ``c604ff05-7f1a-43c0-8e18-33bf874cb11c`` (the default).
    :ivar data: the target schema and optional format.
    :ivar params: the target dataset.
    """

    name: NonEmptyStr
    description: str | None = None
    connectionSpec: ConnectionSpecRef = Field(
        default_factory=lambda: ConnectionSpecRef(id=DATA_LAKE_CONNECTION_SPEC_ID, version="1.0")
    )
    data: TargetData
    params: TargetParams

    @field_validator("connectionSpec")
    @classmethod
    def _data_lake_only(cls, spec: ConnectionSpecRef) -> ConnectionSpecRef:
        # Two tutorials put the source's spec id here by mistake; AEP then refuses the flow.
        if spec.id.lower() != DATA_LAKE_CONNECTION_SPEC_ID:
            raise_rule_errors(
                "connectionSpec",
                [(("id",), f"must be the data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID}")],
            )
        return spec
