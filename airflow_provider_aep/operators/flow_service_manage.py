"""Flow Service operators that read, change and delete existing resources.

Get a dataflow (and its streaming inlet URL) or a base connection; update either by JSON Patch with
``If-Match``; enable or disable a dataflow; delete a dataflow or a base, source or target connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from airflow_provider_aep.exceptions import AEPConfigError, AEPError
from airflow_provider_aep.links import AEPDataflowLink
from airflow_provider_aep.models.secret_params import without_secrets
from airflow_provider_aep.operators.arguments import check_list, json_list
from airflow_provider_aep.operators.base import AEPBaseOperator
from airflow_provider_aep.operators.credentials import (
    SOURCE_PRESET_NAMES,
    check_credential_fields,
    check_no_secret_literals,
    connection_password_params,
    read_source_credentials,
    source_preset,
)
from airflow_provider_aep.operators.deletion import AEPDeleteResourceOperator
from airflow_provider_aep.operators.updates import patch_with_if_match, redact_error

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg

ConnectionType = Literal["base", "source", "target"]
CONNECTION_COLLECTIONS: Mapping[str, str] = {
    "base": "/connections",
    "source": "/sourceConnections",
    "target": "/targetConnections",
}


def _required_id(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AEPConfigError(f"{argument}: must be a non-empty id")
    return value


#: What ``operations`` holds, for errors.
OPERATIONS = "a list of JSON Patch operations ({op, path, value})"


def flow_id_argument(flow_id: Any, dataflow_id: Any) -> Any:
    """The dataflow id of an operator: ``flow_id``, as on every AEP operator (``dataflow_id`` is its old
    name, still accepted with a deprecation warning)."""
    if dataflow_id is not None:
        import warnings

        from airflow.exceptions import AirflowProviderDeprecationWarning

        if flow_id is not None:
            raise AEPConfigError("flow_id: give flow_id or its old name dataflow_id, not both")
        warnings.warn(
            "dataflow_id is deprecated: the dataflow id is flow_id on every AEP operator",
            AirflowProviderDeprecationWarning,
            stacklevel=3,
        )
        return dataflow_id
    if flow_id is None:
        raise AEPConfigError("flow_id: the dataflow id is required")
    return flow_id


class _AEPOneDataflowOperator(AEPBaseOperator):
    """An operator on one dataflow, given by ``flow_id`` (templated; or ``dataflow_id``, its old name),
    linked to it in the Airflow UI."""

    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "flow_id")
    operator_extra_links = (AEPDataflowLink(),)

    def __init__(
        self, *, flow_id: IdArg | None = None, dataflow_id: IdArg | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.flow_id = flow_id_argument(flow_id, dataflow_id)


class AEPGetDataflowOperator(_AEPOneDataflowOperator):
    """Read a dataflow (``GET /flows/{id}``) and return it (secret-looking values removed).

    A streaming dataflow's inlet URL is pushed wherever AEP put it (``inletUrl`` or
    ``options.inletUrl``): send events there with ``AEPSendStreamingEventsOperator``.

    XCom: return value = the dataflow object; ``flow_id``; ``inlet_url``; ``etag``; ``state``.

    :param flow_id: the dataflow id (templated; ``dataflow_id``, its old name, still works).
    """

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.responses import etag, inlet_url

        flow_id = _required_id(self.flow_id, "flow_id")
        flow = self.hook.get_item("flowservice", f"/flows/{quote(flow_id, safe='')}")
        inlet = inlet_url(flow)
        self.push(
            context, {"flow_id": flow_id, "inlet_url": inlet, "etag": etag(flow), "state": flow.get("state")}
        )
        if inlet:
            self.log.info("The dataflow %s streams from %s", flow_id, inlet)
        result: dict[str, Any] = without_secrets(flow)
        return result


class AEPGetBaseConnectionOperator(AEPBaseOperator):
    """Read a base connection (``GET /connections/{id}``) and return it without its secrets.

    Secret: the parameters with secret-looking names or shared access signature values, and those its
    connection spec's ``authSpec`` marks ``format: password`` (the spec is read too).

    XCom: return value = the base connection object; ``etag``; ``inlet_url`` (HTTP API source).

    :param base_connection_id: the base connection id (templated).
    """

    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "base_connection_id")

    def __init__(self, *, base_connection_id: IdArg, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_connection_id = base_connection_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.responses import etag, inlet_url

        connection_id = _required_id(self.base_connection_id, "base_connection_id")
        item = self.hook.get_item("flowservice", f"/connections/{quote(connection_id, safe='')}")
        result: dict[str, Any] = without_secrets(item, connection_password_params(self.hook, item))
        self.push(context, {"etag": etag(item), "inlet_url": without_secrets(inlet_url(item))})
        return result


class _AEPPatchOperator(AEPBaseOperator):
    """JSON Patch one Flow Service resource with its current etag (one retry after a ``412``)."""

    collection: ClassVar[str]
    what: ClassVar[str]
    id_argument: ClassVar[str]

    def patch(self, context: Context, given_id: Any, operations: Sequence[Mapping[str, Any]]) -> str:
        from airflow_provider_aep.models.patch import JsonPatch
        from airflow_provider_aep.models.validation import validate_request

        resource_id = _required_id(given_id, self.id_argument)
        given = [dict(op) if isinstance(op, Mapping) else op for op in operations]
        body = validate_request(JsonPatch, given, f"{self.what} patch").to_payload()
        path = f"{self.collection}/{quote(resource_id, safe='')}"
        label = f"{self.what} {resource_id}"
        answer = patch_with_if_match(self.hook, "flowservice", path, body, label, self.log)
        self.log.info("Updated %s: %s", label, ", ".join(f"{op['op']} {op['path']}" for op in body))
        self.push(context, {"etag": answer.get("etag")})
        return resource_id


class AEPUpdateDataflowOperator(_AEPPatchOperator):
    """Update a dataflow with JSON Patch (``PATCH /flows/{id}`` with ``If-Match``); returns its id.

    The etag is read first and sent exactly as AEP gave it; if the dataflow changed meanwhile
    (``412``), it is read again and the patch repeated once, then the task fails clearly.

    XCom: return value = dataflow id; ``flow_id``; ``etag`` (the new one).

    :param flow_id: the dataflow id (templated; ``dataflow_id``, its old name, still works).
    :param operations: JSON Patch operations, e.g. ``[{"op": "replace", "path": "/name", "value": "x"}]``
        (``add``, ``replace`` or ``remove``; templated: a list, or a rendered JSON string of one).
    """

    collection = "/flows"
    what = "dataflow"
    id_argument = "flow_id"
    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "flow_id", "operations")
    template_fields_renderers = {"operations": "json"}
    operator_extra_links = (AEPDataflowLink(),)

    def __init__(
        self,
        *,
        operations: Sequence[Mapping[str, Any]] | str,
        flow_id: IdArg | None = None,
        dataflow_id: IdArg | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_list(operations, "operations", OPERATIONS)
        self.flow_id = flow_id_argument(flow_id, dataflow_id)
        self.operations = operations

    def execute(self, context: Context) -> str:
        operations = json_list(self.operations, "operations", OPERATIONS, allow_none=False) or []
        flow_id = self.patch(context, self.flow_id, operations)
        self.push(context, {"flow_id": flow_id})
        return flow_id


class AEPUpdateBaseConnectionOperator(_AEPPatchOperator):
    """Update a base connection with JSON Patch (``PATCH /connections/{id}`` with ``If-Match``).

    To rotate credentials, name the Airflow connection that now holds them (``source_conn_id``,
    with ``source`` or ``credential_fields`` as for ``AEPCreateBaseConnectionOperator``): each
    credential becomes a ``replace`` of ``/auth/params/<name>``; secrets never appear in the DAG.

    XCom: return value = base connection id; ``etag`` (the new one).

    :param base_connection_id: the base connection id (templated).
    :param operations: JSON Patch operations on non-secret fields (``/name``, ``/description``; templated:
        a list, or a rendered JSON string of one).
    :param source_conn_id: Airflow connection with the new credentials (templated).
    :param source: ``paypal``, ``salesforce_marketing_cloud`` (the fields of the connection's own
        ``auth.specName``), ``salesforce_marketing_cloud_azure`` or ``salesforce_marketing_cloud_aws``.
    :param credential_fields: ``auth.params`` name -> connection field, for other sources.
    """

    collection = "/connections"
    what = "base connection"
    id_argument = "base_connection_id"
    template_fields: Sequence[str] = (
        *AEPBaseOperator.template_fields,
        "base_connection_id",
        "operations",
        "source_conn_id",
    )
    template_fields_renderers = {"operations": "json"}

    def __init__(
        self,
        *,
        base_connection_id: IdArg,
        operations: Sequence[Mapping[str, Any]] | str = (),
        source_conn_id: str | None = None,
        source: str | None = None,
        credential_fields: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is not None and source not in SOURCE_PRESET_NAMES:
            source_preset(source)  # fails naming what is wrong: an unknown source, or one without an account
            raise AEPConfigError(f"source: must be one of {', '.join(SOURCE_PRESET_NAMES)}, got {source!r}")
        check_list(operations, "operations", OPERATIONS)
        if source_conn_id and source is None and not credential_fields:
            raise AEPConfigError("credential_fields: give source or credential_fields with source_conn_id")
        if credential_fields is not None:
            check_credential_fields(credential_fields)
        if isinstance(operations, Sequence) and not isinstance(operations, str):
            check_no_secret_operations(operations)
        if not operations and not source_conn_id:
            raise AEPConfigError(
                "operations: give JSON Patch operations, or source_conn_id to rotate credentials"
            )
        self.base_connection_id = base_connection_id
        self.operations = operations
        self.source_conn_id = source_conn_id
        self.source = source
        self.credential_fields = dict(credential_fields or {})

    def execute(self, context: Context) -> str:
        given = json_list(self.operations, "operations", OPERATIONS, allow_none=False) or []
        operations = [dict(op) if isinstance(op, Mapping) else op for op in given]
        check_no_secret_operations(operations)
        secrets: tuple[str, ...] = ()
        if self.source_conn_id:
            resource_id = _required_id(self.base_connection_id, self.id_argument)
            current = self.hook.get_item("flowservice", f"/connections/{quote(resource_id, safe='')}")
            auth = current.get("auth")
            spec_name = auth.get("specName") if isinstance(auth, Mapping) else None
            fields: dict[str, str] = {}
            if self.source:
                # the account's own authentication decides which credentials it takes
                preset = source_preset(self.source, spec_name if isinstance(spec_name, str) else None)
                fields.update(preset.credential_fields)
            fields.update(self.credential_fields)
            password_params = connection_password_params(self.hook, current)
            credentials = read_source_credentials(self.source_conn_id, fields, password_params)
            operations += [
                {"op": "replace", "path": f"/auth/params/{name}", "value": value}
                for name, value in credentials.params.items()
            ]
            secrets = credentials.secrets
        try:
            return self.patch(context, self.base_connection_id, operations)
        except AEPError as error:
            redact_error(error, secrets)
            raise


def check_no_secret_operations(operations: Sequence[Any]) -> None:
    """Refuse a JSON Patch operation that writes a secret literal (``/auth/params/clientSecret``)."""
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            continue
        name = str(operation.get("path", "")).rstrip("/").rpartition("/")[2]
        check_no_secret_literals({name: operation.get("value")}, what=f"operations[{index}]")


class _AEPDataflowActionOperator(_AEPOneDataflowOperator):
    """``POST /flows/{id}/action?op=<action>``; the action is idempotent, so retries are safe."""

    action: ClassVar[str]

    def execute(self, context: Context) -> str:
        flow_id = _required_id(self.flow_id, "flow_id")
        answer = self.hook.request(
            "POST",
            "flowservice",
            f"/flows/{quote(flow_id, safe='')}/action",
            params={"op": self.action},
            idempotent=True,
        )
        self.log.info("Dataflow %s: %s", flow_id, f"{self.action}d")
        self.push(
            context, {"flow_id": flow_id, "etag": answer.get("etag") if isinstance(answer, dict) else None}
        )
        return flow_id


class AEPEnableDataflowOperator(_AEPDataflowActionOperator):
    """Enable a dataflow (``POST /flows/{id}/action?op=enable``); returns its id.

    XCom: return value = dataflow id; ``flow_id``; ``etag``.

    :param flow_id: the dataflow id (templated; ``dataflow_id``, its old name, still works).
    """

    action = "enable"


class AEPDisableDataflowOperator(_AEPDataflowActionOperator):
    """Disable a dataflow (``POST /flows/{id}/action?op=disable``): no new runs; returns its id.

    XCom: return value = dataflow id; ``flow_id``; ``etag``.

    :param flow_id: the dataflow id (templated; ``dataflow_id``, its old name, still works).
    """

    action = "disable"


class AEPDeleteDataflowOperator(AEPDeleteResourceOperator):
    """Delete a dataflow (``DELETE /flows/{id}``); returns its id, or ``None`` if it was missing.

    ``ignore_missing=True``: succeed when it does not exist.

    :param flow_id: the dataflow id (templated as ``resource_id``; ``dataflow_id``, its old name, still
        works).
    """

    service = "flowservice"
    collection = "/flows"
    what = "dataflow"
    id_argument = "flow_id"

    def __init__(
        self, *, flow_id: IdArg | None = None, dataflow_id: IdArg | None = None, **kwargs: Any
    ) -> None:
        super().__init__(resource_id=flow_id_argument(flow_id, dataflow_id), **kwargs)


class AEPDeleteConnectionOperator(AEPDeleteResourceOperator):
    """Delete a base (account), source or target connection; returns its id, or ``None`` if missing.

    AEP refuses to delete a base connection still used by a dataflow (``1418-400``): delete the
    dataflow first.

    ``ignore_missing=True``: succeed when it does not exist.

    :param connection_id: the connection id (templated as ``resource_id``).
    :param connection_type: ``base`` (``/connections``), ``source`` or ``target``.
    """

    service = "flowservice"
    id_argument = "connection_id"

    def __init__(
        self, *, connection_id: IdArg, connection_type: ConnectionType = "base", **kwargs: Any
    ) -> None:
        super().__init__(resource_id=connection_id, **kwargs)
        if connection_type not in CONNECTION_COLLECTIONS:
            raise AEPConfigError(
                f"connection_type: must be one of {', '.join(CONNECTION_COLLECTIONS)}, "
                f"got {connection_type!r}"
            )
        self.collection = CONNECTION_COLLECTIONS[connection_type]
        self.what = f"{connection_type} connection"
