"""Flow Service operators that create (or find) the resources of a source tutorial.

(Base connection: ``accounts.py``) -> source connection -> target connection -> dataflow; plus the
look-ups of a flow spec and a connection spec by name. Each is an "ensure" operator: re-running a
DAG reuses what exists (see :mod:`airflow_provider_aep.operators.base`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.links import AEPDataflowLink
from airflow_provider_aep.operators.arguments import (
    check_delta_column,
    check_dict,
    check_list,
    delta_column,
    ids,
    json_dict,
    json_list,
)
from airflow_provider_aep.operators.base import AEPBaseOperator, AEPEnsureResourceOperator
from airflow_provider_aep.operators.resources import ResourceKind

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"


#: What ``columns`` holds, for errors.
COLUMNS = "a list of columns ({name, type, xdm: {type}})"


class AEPCreateSourceConnectionOperator(AEPEnsureResourceOperator):
    """Ensure a source connection: ``POST /sourceConnections``; returns its id.

    Tabular sources give ``table_name`` and ``columns`` (format ``tabular``), file sources ``path``
    and their format (``delimited``, ``json``, ``parquet``), streaming sources (Shopify) a
    ``provider_id`` and no base connection. ``source="paypal"``, ``"salesforce_marketing_cloud"`` or
    ``"shopify_streaming"`` fills the connection spec id, the data format and (Shopify) the provider id
    (:mod:`airflow_provider_aep.sources`); any other source gives ``connection_spec_id`` and
    ``data_format``.

    XCom: return value = source connection id; ``etag``; ``created``.

    :param name: the source connection name, looked up on re-runs (templated).
    :param source: a source of the tutorials by name, instead of the three ids and format below.
    :param connection_spec_id: the source's connection spec id (templated).
    :param data_format: ``tabular``, ``delimited``, ``json`` or ``parquet`` (templated).
    :param base_connection_id: the base connection id, e.g. an upstream ``.output`` (templated).
    :param provider_id: the streaming provider id (Shopify streaming; templated).
    :param table_name: the table to read (templated).
    :param columns: the columns to read, ``[{name, type, xdm: {type}}]`` (templated; a list, or a
        rendered JSON string of one).
    :param path: the file, folder or object to read (templated).
    :param source_params: other ``params`` the source accepts (templated; a dict or its JSON).
    :param source_schema_id: the ``$id`` of an ad-hoc schema describing the source data (templated).
    :param source_schema_version: its content type, e.g.
        ``application/vnd.adobe.xed-full-notext+json; version=1``.
    :param description: optional description (templated).
    :param connection_spec_version: the connection spec version, ``1.0``.
    """

    kind = ResourceKind(
        what="source connection",
        service="flowservice",
        collection="/sourceConnections",
        identity_fields=("connectionSpec.id", "baseConnectionId"),
        patchable=("description", "params", "data"),
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "name",
        "description",
        "connection_spec_id",
        "data_format",
        "base_connection_id",
        "provider_id",
        "table_name",
        "columns",
        "path",
        "source_params",
        "source_schema_id",
    )
    template_fields_renderers = {"columns": "json", "source_params": "json"}

    def __init__(
        self,
        *,
        name: str,
        source: str | None = None,
        connection_spec_id: IdArg | None = None,
        data_format: str | None = None,
        base_connection_id: IdArg | None = None,
        provider_id: str | None = None,
        table_name: str | None = None,
        columns: Sequence[Mapping[str, Any]] | str | None = None,
        path: str | None = None,
        source_params: Mapping[str, Any] | str | None = None,
        source_schema_id: IdArg | None = None,
        source_schema_version: str | None = None,
        description: str | None = None,
        connection_spec_version: str = "1.0",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is not None:
            from airflow_provider_aep.sources import preset_value, source_preset

            preset = source_preset(source)
            connection_spec_id = preset_value(source, connection_spec_id, "connection_spec_id")
            data_format = data_format or preset.data_format
            if provider_id is None:
                provider_id = preset.provider_id
        if not connection_spec_id:
            from airflow_provider_aep.sources import SOURCE_NAMES

            raise AEPConfigError(
                f"connection_spec_id: give source= ({', '.join(SOURCE_NAMES)}) or the source's connection "
                "spec id"
            )
        if not data_format:
            raise AEPConfigError("data_format: must be tabular, delimited, json or parquet (source= sets it)")
        check_list(columns, "columns", COLUMNS)
        check_dict(source_params, "source_params")
        self.source = source
        self.name = name
        self.connection_spec_id = connection_spec_id
        self.data_format = data_format
        self.base_connection_id = base_connection_id
        self.provider_id = provider_id
        self.table_name = table_name
        self.columns = columns
        self.path = path
        self.source_params = source_params
        self.source_schema_id = source_schema_id
        self.source_schema_version = source_schema_version
        self.description = description
        self.connection_spec_version = connection_spec_version

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.connections import SourceConnection
        from airflow_provider_aep.models.validation import validate_request

        params = {
            **(json_dict(self.source_params, "source_params") or {}),
            **{
                key: value
                for key, value in (
                    ("tableName", self.table_name),
                    ("columns", json_list(self.columns, "columns", COLUMNS)),
                    ("path", self.path),
                )
                if value is not None
            },
        }
        data: dict[str, Any] = {"format": self.data_format}
        if self.source_schema_id:
            data["schema"] = {"id": self.source_schema_id, "version": self.source_schema_version}
        body = {
            "name": self.name,
            "description": self.description,
            "baseConnectionId": self.base_connection_id or None,
            "providerId": self.provider_id or None,
            "connectionSpec": {"id": self.connection_spec_id, "version": self.connection_spec_version},
            "data": data,
            "params": params or None,
        }
        return validate_request(SourceConnection, body, "source connection").to_payload()


class AEPCreateTargetConnectionOperator(AEPEnsureResourceOperator):
    """Ensure a data lake target connection to a dataset: ``POST /targetConnections``; returns its id.

    XCom: return value = target connection id; ``dataset_id``; ``etag``; ``created``.

    :param name: the target connection name, looked up on re-runs (templated).
    :param dataset_id: the target dataset id (templated).
    :param schema_id: the ``$id`` of the dataset's XDM schema (templated).
    :param schema_version: the schema content type (``application/vnd.adobe.xed-full+json;version=1``);
        ``None`` leaves it out.
    :param data_format: optional data format (``json`` for streaming sources; templated).
    :param description: optional description (templated).
    :param connection_spec_id: the data lake connection spec (default ``c604ff05-...``).
    :param connection_spec_version: its version, ``1.0``.
    """

    kind = ResourceKind(
        what="target connection",
        service="flowservice",
        collection="/targetConnections",
        identity_fields=("connectionSpec.id", "params.dataSetId"),
        patchable=("description", "data"),
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "name",
        "description",
        "dataset_id",
        "schema_id",
        "schema_version",
        "data_format",
    )

    def __init__(
        self,
        *,
        name: str,
        dataset_id: IdArg,
        schema_id: IdArg,
        schema_version: str | None = XED_FULL,
        data_format: str | None = None,
        description: str | None = None,
        connection_spec_id: IdArg | None = None,
        connection_spec_version: str = "1.0",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_id = dataset_id
        self.schema_id = schema_id
        self.schema_version = schema_version
        self.data_format = data_format
        self.description = description
        self.connection_spec_id = connection_spec_id
        self.connection_spec_version = connection_spec_version

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.connections import TargetConnection
        from airflow_provider_aep.models.validation import validate_request
        from airflow_provider_aep.sources import DATA_LAKE_CONNECTION_SPEC_ID

        body = {
            "name": self.name,
            "description": self.description,
            "connectionSpec": {
                "id": self.connection_spec_id or DATA_LAKE_CONNECTION_SPEC_ID,
                "version": self.connection_spec_version,
            },
            "data": {
                "format": self.data_format,
                "schema": {"id": self.schema_id, "version": self.schema_version},
            },
            "params": {"dataSetId": self.dataset_id},
        }
        return validate_request(TargetConnection, body, "target connection").to_payload()

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        return {**super().xcom_values(resource_id, item, created), "dataset_id": self.dataset_id}


class AEPCreateDataflowOperator(AEPEnsureResourceOperator):
    """Ensure a dataflow from source to target connections: ``POST /flows``; returns its id.

    ``mapping_id`` adds the ``Mapping`` transformation and ``delta_column`` the ``Copy`` one (or give
    ``transformations`` yourself). A batch dataflow has ``schedule_params`` (``frequency: once`` when
    Airflow triggers each run); a streaming one has none. List and dict arguments also take a rendered
    JSON string (``"{{ params.schedule | tojson }}"``, or ``"{{ params.schedule }}"``).

    XCom: return value = dataflow id; ``flow_id``; ``etag``; ``created``. Extra link: the dataflow in AEP.

    :param name: the dataflow name, looked up on re-runs (templated).
    :param flow_spec_id: the flow spec id (e.g. ``AEPGetFlowSpecOperator(...).output``; templated).
    :param source: a source of the tutorials by name (``paypal``, ``salesforce_marketing_cloud``:
        ``CRMToAEP``; ``shopify_streaming``: the streaming flow spec), instead of ``flow_spec_id``.
    :param source_connection_ids: one source connection id or a list (templated).
    :param target_connection_ids: one target connection id or a list (templated).
    :param mapping_id: the mapping set id (templated).
    :param mapping_version: the mapping set version, ``0`` (an integer or a string of digits).
    :param delta_column: the source column that dates each row, for incremental loads: its name
        (``"Update_Time"``), or ``{"name": ..., "dateFormat": ..., "timezone": ...}`` when AEP needs the
        column's date format and time zone (as in tutorial 001); the same argument as on
        ``AEPTriggerFlowRunOperator`` (templated).
    :param transformations: explicit ``[{name, params}]`` instead of the two above (templated).
    :param schedule_params: ``{startTime, frequency, interval?, backfill?}`` (templated).
    :param options: flow options such as ``partialIngestionPercent`` (templated).
    :param description: optional description (templated).
    :param flow_spec_version: the flow spec version, ``1.0``.
    """

    kind = ResourceKind(
        what="dataflow",
        service="flowservice",
        collection="/flows",
        identity_fields=("flowSpec.id", "sourceConnectionIds", "targetConnectionIds"),
        patchable=("description", "transformations", "scheduleParams"),
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "name",
        "description",
        "flow_spec_id",
        "source_connection_ids",
        "target_connection_ids",
        "mapping_id",
        "mapping_version",
        "delta_column",
        "transformations",
        "schedule_params",
        "options",
    )
    template_fields_renderers = {
        "delta_column": "json",
        "transformations": "json",
        "schedule_params": "json",
        "options": "json",
    }
    operator_extra_links = (AEPDataflowLink(),)

    def __init__(
        self,
        *,
        name: str,
        source_connection_ids: IdArg | Sequence[IdArg],
        target_connection_ids: IdArg | Sequence[IdArg],
        flow_spec_id: IdArg | None = None,
        source: str | None = None,
        mapping_id: IdArg | None = None,
        mapping_version: int | str = 0,
        delta_column: str | Mapping[str, Any] | None = None,
        transformations: Sequence[Mapping[str, Any]] | str | None = None,
        schedule_params: Mapping[str, Any] | str | None = None,
        options: Mapping[str, Any] | str | None = None,
        description: str | None = None,
        flow_spec_version: str = "1.0",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if transformations is not None and (mapping_id is not None or delta_column is not None):
            raise AEPConfigError(
                "transformations: give either transformations or mapping_id/delta_column, not both"
            )
        if source is not None:
            from airflow_provider_aep.sources import preset_value

            flow_spec_id = preset_value(source, flow_spec_id, "flow_spec_id", "flow_spec_id")
        if not flow_spec_id:
            raise AEPConfigError(
                "flow_spec_id: give the flow spec id (AEPGetFlowSpecOperator(name=...).output) or source="
            )
        check_delta_column(delta_column)
        check_list(transformations, "transformations", "a list of transformations ({name, params})")
        check_dict(schedule_params, "schedule_params")
        check_dict(options, "options")
        self.source = source
        self.name = name
        self.flow_spec_id = flow_spec_id
        self.source_connection_ids = source_connection_ids
        self.target_connection_ids = target_connection_ids
        self.mapping_id = mapping_id
        self.mapping_version = mapping_version
        self.delta_column = delta_column
        self.transformations = transformations
        self.schedule_params = schedule_params
        self.options = options
        self.description = description
        self.flow_spec_version = flow_spec_version

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.flows import Dataflow
        from airflow_provider_aep.models.validation import validate_request

        given = json_list(
            self.transformations, "transformations", "a list of transformations ({name, params})"
        )
        transformations = [dict(step) if isinstance(step, Mapping) else step for step in given or ()]
        column = delta_column(self.delta_column)
        if column is not None:
            transformations.append({"name": "Copy", "params": {"deltaColumn": column}})
        if self.mapping_id:
            transformations.append(
                {
                    "name": "Mapping",
                    "params": {"mappingId": self.mapping_id, "mappingVersion": self.mapping_version},
                }
            )
        body = {
            "name": self.name,
            "description": self.description,
            "flowSpec": {"id": self.flow_spec_id, "version": self.flow_spec_version},
            "sourceConnectionIds": ids(self.source_connection_ids, "source_connection_ids"),
            "targetConnectionIds": ids(self.target_connection_ids, "target_connection_ids"),
            "transformations": transformations or None,
            "scheduleParams": json_dict(self.schedule_params, "schedule_params"),
            "options": json_dict(self.options, "options"),
        }
        return validate_request(Dataflow, body, "dataflow").to_payload()

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        return {**super().xcom_values(resource_id, item, created), "flow_id": resource_id}


class _AEPGetSpecOperator(AEPBaseOperator):
    """Find a spec by name; subclasses set the collection."""

    collection: str = ""
    what: str = ""
    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "name")

    def __init__(self, *, name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name

    def execute(self, context: Context) -> str:
        from airflow_provider_aep.exceptions import AEPError
        from airflow_provider_aep.hooks.paging import property_filter

        if not str(self.name or "").strip():
            raise AEPConfigError("name: must not be empty")
        params = {"property": property_filter("name", self.name)}
        for item in self.hook.iter_items("flowservice", self.collection, params):
            if item.get("name") == self.name and isinstance(item.get("id"), str):
                self.log.info("The %s %r is %s", self.what, self.name, item["id"])
                self.push(context, {"version": item.get("version")})
                return str(item["id"])
        raise AEPError(f"AEP has no {self.what} named {self.name!r}")


class AEPGetFlowSpecOperator(_AEPGetSpecOperator):
    """Look a flow spec up by name (``GET /flowSpecs?property=name=="CRMToAEP"``); returns its id.

    XCom: return value = flow spec id; ``version``.

    :param name: the flow spec name, e.g. ``CRMToAEP`` (templated).
    """

    collection = "/flowSpecs"
    what = "flow spec"


class AEPGetConnectionSpecOperator(_AEPGetSpecOperator):
    """Look a connection spec up by name (``GET /connectionSpecs?property=name==...``); returns its id.

    XCom: return value = connection spec id; ``version``.

    :param name: the connection spec name (templated).
    """

    collection = "/connectionSpecs"
    what = "connection spec"
