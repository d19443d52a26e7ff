"""Building blocks for your own DAGs: a tutorial's setup, and "run this window and wait", as task groups.

* :func:`source_to_dataset`: account (base connection), source connection, target XDM schema, dataset,
  data lake target connection, mapping set, flow spec look-up and dataflow, one task each;
* :func:`xdm_destination`: only the destination part (schema, dataset, target connection, mapping set);
* :func:`run_and_wait`: an on-demand flow run over the DAG run's window, and a sensor that waits for it.

Each is called inside ``with DAG(...)`` and returns a small ``NamedTuple`` of its tasks, so ``.output``
chains them: ``run_and_wait(flow_id=setup.dataflow.output)``. The tasks have readable ids
(``create_dataflow``, ``run_window``...), inside an Airflow ``TaskGroup`` (``group_id``; with
``prefix_group_id=False`` the ids stay unprefixed, as in the example DAGs). Every task is idempotent,
as the operators are: a scheduled DAG runs its setup every time and reuses what exists.

Per step, ``names`` and ``descriptions`` replace the default resource names (``<name_prefix> dataflow``...)
and descriptions, and ``task_kwargs`` adds or overrides any operator argument (``trigger_rule``,
``retries``, ``if_exists``...). The steps: ``base_connection``, ``source_connection``, ``schema``,
``dataset``, ``target_connection``, ``mapping_set``, ``flow_spec``, ``dataflow``; ``run`` and ``wait``.

Imported when a DAG file is parsed: the operators are imported when a builder is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_aep.exceptions import AEPConfigError

if TYPE_CHECKING:
    from airflow.sdk import TaskGroup

    from airflow_provider_aep.operators import (
        AEPCreateBaseConnectionOperator,
        AEPCreateDataflowOperator,
        AEPCreateDatasetOperator,
        AEPCreateMappingSetOperator,
        AEPCreateSchemaOperator,
        AEPCreateSourceConnectionOperator,
        AEPCreateTargetConnectionOperator,
        AEPGetFlowSpecOperator,
    )
    from airflow_provider_aep.operators.base import IdArg
    from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
    from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

#: The XDM Individual Profile class, the target schema's class by default.
PROFILE_CLASS = "https://ns.adobe.com/xdm/context/profile"
#: Standard profile field groups the tutorials add to the target schema.
PERSON_DETAILS_FIELD_GROUP = "https://ns.adobe.com/xdm/context/profile-person-details"
PERSONAL_DETAILS_FIELD_GROUP = "https://ns.adobe.com/xdm/context/profile-personal-details"

SETUP_STEPS = (
    "base_connection",
    "source_connection",
    "schema",
    "dataset",
    "target_connection",
    "mapping_set",
    "flow_spec",
    "dataflow",
)
DESTINATION_STEPS = ("schema", "dataset", "target_connection", "mapping_set")
RUN_STEPS = ("run", "wait")

#: Task ids of the steps.
TASK_IDS = {
    "base_connection": "create_base_connection",
    "source_connection": "create_source_connection",
    "schema": "create_target_schema",
    "dataset": "create_target_dataset",
    "target_connection": "create_target_connection",
    "mapping_set": "create_mapping_set",
    "flow_spec": "get_flow_spec",
    "dataflow": "create_dataflow",
}


class XdmDestination(NamedTuple):
    """The tasks of :func:`xdm_destination`; each one's ``.output`` is the resource's id."""

    schema: AEPCreateSchemaOperator
    dataset: AEPCreateDatasetOperator
    target_connection: AEPCreateTargetConnectionOperator
    mapping_set: AEPCreateMappingSetOperator
    group: TaskGroup


class SourceToDataset(NamedTuple):
    """The tasks of :func:`source_to_dataset`; each one's ``.output`` is the resource's id.

    ``base_connection`` is ``None`` when the account was given (``base_connection_id``) or the source has
    none (Shopify streaming); ``flow_spec`` is ``None`` when the flow spec id was known.
    """

    base_connection: AEPCreateBaseConnectionOperator | None
    source_connection: AEPCreateSourceConnectionOperator
    schema: AEPCreateSchemaOperator
    dataset: AEPCreateDatasetOperator
    target_connection: AEPCreateTargetConnectionOperator
    mapping_set: AEPCreateMappingSetOperator
    flow_spec: AEPGetFlowSpecOperator | None
    dataflow: AEPCreateDataflowOperator
    group: TaskGroup


class RunAndWait(NamedTuple):
    """The tasks of :func:`run_and_wait`: ``run.output`` is the flow run id, ``wait.output`` too."""

    run: AEPTriggerFlowRunOperator
    wait: AEPFlowRunSensor
    group: TaskGroup


def _per_step(value: Mapping[str, Any] | None, steps: Sequence[str], argument: str) -> dict[str, Any]:
    """A per-step mapping (``names``, ``descriptions``, ``task_kwargs``), refusing unknown steps."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AEPConfigError(f"{argument}: must map steps ({', '.join(steps)}) to values, got {value!r}")
    unknown = [str(step) for step in value if step not in steps]
    if unknown:
        raise AEPConfigError(
            f"{argument}: unknown step {', '.join(map(repr, unknown))}; the steps are {', '.join(steps)}"
        )
    return dict(value)


def _given(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that are not ``None``: the others keep the operator's own default."""
    return {name: value for name, value in kwargs.items() if value is not None}


class _Steps:
    """Each step's operator arguments: the builder's, then ``names``, ``descriptions``, ``task_kwargs``."""

    def __init__(
        self,
        steps: Sequence[str],
        names: Mapping[str, str] | None,
        descriptions: Mapping[str, str] | None,
        task_kwargs: Mapping[str, Mapping[str, Any]] | None,
        common: Mapping[str, Any],
    ) -> None:
        self.names = _per_step(names, steps, "names")
        self.descriptions = _per_step(descriptions, steps, "descriptions")
        self.task_kwargs = _per_step(task_kwargs, steps, "task_kwargs")
        for step, extra in self.task_kwargs.items():
            if not isinstance(extra, Mapping):
                raise AEPConfigError(
                    f"task_kwargs.{step}: must be a dict of operator arguments, got {extra!r}"
                )
        self.common = dict(common)

    def kwargs(self, step: str, default_name: str | None, **arguments: Any) -> dict[str, Any]:
        built = {"task_id": TASK_IDS.get(step, step), **self.common, **_given(**arguments)}
        if default_name is not None:
            key = "title" if step == "schema" else "name"
            built[key] = self.names.get(step, default_name)
        if step in self.descriptions:
            built["description"] = self.descriptions[step]
        built.update(self.task_kwargs.get(step, {}))
        return built


def _destination(
    steps: _Steps,
    *,
    name_prefix: str,
    mappings: Sequence[Mapping[str, Any]] | str,
    class_id: str,
    field_group_ids: Sequence[str] | str,
    target_data_format: str | None,
) -> tuple[
    AEPCreateSchemaOperator,
    AEPCreateDatasetOperator,
    AEPCreateTargetConnectionOperator,
    AEPCreateMappingSetOperator,
]:
    from airflow_provider_aep.operators import (
        AEPCreateDatasetOperator,
        AEPCreateMappingSetOperator,
        AEPCreateSchemaOperator,
        AEPCreateTargetConnectionOperator,
    )

    schema = AEPCreateSchemaOperator(
        **steps.kwargs(
            "schema",
            f"{name_prefix} target schema",
            class_id=class_id,
            field_group_ids=field_group_ids or None,
        )
    )
    dataset = AEPCreateDatasetOperator(
        **steps.kwargs("dataset", f"{name_prefix} target dataset", schema_id=schema.output)
    )
    target_connection = AEPCreateTargetConnectionOperator(
        **steps.kwargs(
            "target_connection",
            f"{name_prefix} target connection",
            dataset_id=dataset.output,
            schema_id=schema.output,
            data_format=target_data_format,
        )
    )
    mapping_set = AEPCreateMappingSetOperator(
        **steps.kwargs("mapping_set", None, schema_id=schema.output, mappings=mappings)
    )
    return schema, dataset, target_connection, mapping_set


def xdm_destination(
    *,
    name_prefix: str,
    mappings: Sequence[Mapping[str, Any]] | str,
    class_id: str = PROFILE_CLASS,
    field_group_ids: Sequence[str] | str = (),
    target_data_format: str | None = None,
    names: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    sandbox: str | None = None,
    aep_conn_id: str = "aep_default",
    group_id: str = "xdm_destination",
    prefix_group_id: bool = True,
) -> XdmDestination:
    """Where ingested data lands: a target XDM schema, its dataset, the data lake target connection to
    it and the mapping set into the schema (tasks ``create_target_schema``, ``create_target_dataset``,
    ``create_target_connection``, ``create_mapping_set``), inside ``with DAG(...)``.

    :param name_prefix: the resources are named ``<name_prefix> target schema``, ``... target dataset``,
        ``... target connection`` (templated, e.g. ``"{{ params.name_prefix }}"``).
    :param mappings: the mapping set's mappings (a list, or a rendered JSON string of one).
    :param class_id: the schema's class, the XDM Individual Profile by default.
    :param field_group_ids: the schema's field groups.
    :param target_data_format: the target connection's data format (``json`` for streaming sources).
    :param names: step -> resource name, instead of the default (steps ``schema``, ``dataset``,
        ``target_connection``; a mapping set has no name).
    :param descriptions: step -> description.
    :param task_kwargs: step -> more operator arguments (they win over the builder's).
    :param sandbox: the sandbox of every task (templated; the connection's when empty).
    :param aep_conn_id: the ``aep`` Airflow connection.
    :param group_id: the task group's id.
    :param prefix_group_id: prefix the task ids with ``group_id`` (Airflow's default); ``False`` keeps
        the bare ids.
    """
    from airflow.sdk import TaskGroup

    steps = _Steps(
        DESTINATION_STEPS, names, descriptions, task_kwargs, {"sandbox": sandbox, "aep_conn_id": aep_conn_id}
    )
    with TaskGroup(group_id=group_id, prefix_group_id=prefix_group_id, tooltip="AEP destination") as group:
        parts = _destination(
            steps,
            name_prefix=name_prefix,
            mappings=mappings,
            class_id=class_id,
            field_group_ids=field_group_ids,
            target_data_format=target_data_format,
        )
    return XdmDestination(*parts, group=group)


def source_to_dataset(
    *,
    name_prefix: str,
    mappings: Sequence[Mapping[str, Any]] | str,
    source: str | None = None,
    connection_spec_id: IdArg | None = None,
    source_conn_id: str | None = None,
    base_connection_id: IdArg | None = None,
    auth_spec_name: str | None = None,
    credential_fields: Mapping[str, str] | None = None,
    data_format: str | None = None,
    table_name: str | None = None,
    columns: Sequence[Mapping[str, Any]] | str | None = None,
    path: str | None = None,
    source_params: Mapping[str, Any] | str | None = None,
    source_schema_id: IdArg | None = None,
    source_schema_version: str | None = None,
    class_id: str = PROFILE_CLASS,
    field_group_ids: Sequence[str] | str = (),
    target_data_format: str | None = None,
    flow_spec_name: str | None = None,
    flow_spec_id: IdArg | None = None,
    delta_column: str | Mapping[str, Any] | None = None,
    schedule_params: Mapping[str, Any] | str | None = None,
    mapping_version: int | str | None = None,
    names: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    sandbox: str | None = None,
    aep_conn_id: str = "aep_default",
    group_id: str = "source_to_dataset",
    prefix_group_id: bool = True,
) -> SourceToDataset:
    """A tutorial's whole setup, from the source's account to a dataflow into a dataset, inside
    ``with DAG(...)``; returns its tasks (``.dataflow.output`` is the dataflow id).

    The tasks, in order: ``create_base_connection`` (when ``source_conn_id`` is given), then
    ``create_source_connection``, ``create_target_schema``, ``create_target_dataset``,
    ``create_target_connection``, ``create_mapping_set``, ``get_flow_spec`` (when the flow spec is looked
    up by name) and ``create_dataflow``. Resources are named ``<name_prefix> <source> base connection``,
    ``<name_prefix> <source> source connection``, ``<name_prefix> target schema``, ``... target
    dataset``, ``... target connection`` and ``<name_prefix> dataflow`` (``names`` replaces any).

    :param name_prefix: prefix of every resource name (templated, e.g. ``"{{ params.name_prefix }}"``):
        re-runs with the same prefix reuse the resources.
    :param mappings: the mapping set's mappings, source field -> XDM path (a list, or a rendered JSON
        string of one).
    :param source: ``paypal``, ``salesforce_marketing_cloud`` or ``shopify_streaming``
        (:mod:`airflow_provider_aep.sources`): the connection spec, data format, flow spec and, for Shopify,
        the provider id. Any other source: ``connection_spec_id``, ``data_format`` and a flow spec.
    :param connection_spec_id: the source's connection spec id (another source).
    :param source_conn_id: the Airflow connection holding the source's credentials: the account is
        created from it (``create_base_connection``).
    :param base_connection_id: an existing account instead (an id or an upstream ``.output``).
    :param auth_spec_name: the account's authentication (Salesforce Marketing Cloud: ``Client-Id-Secret
        Based Authentication`` on Azure, ``OAuth2 Client Credential`` on AWS; another source).
    :param credential_fields: ``auth.params`` name -> connection field (another source).
    :param data_format: the source connection's format (``tabular``, ``delimited``, ``json``, ``parquet``).
    :param table_name: the table a tabular source reads.
    :param columns: its columns, ``[{name, type, xdm: {type}}]``.
    :param path: the file, folder or table path the source reads.
    :param source_params: other source connection ``params``.
    :param source_schema_id: an ad-hoc schema describing the source data (tutorial 004).
    :param source_schema_version: that schema's content type.
    :param class_id: the target schema's class (the XDM Individual Profile by default).
    :param field_group_ids: the target schema's field groups.
    :param target_data_format: the target connection's format (``json`` for streaming sources).
    :param flow_spec_name: the flow spec to look up by name (``get_flow_spec``); by default the source's
        (``CRMToAEP`` for PayPal and Salesforce Marketing Cloud).
    :param flow_spec_id: the flow spec id instead (no look-up; Shopify streaming's is known).
    :param delta_column: the column that dates each row: a name, or ``{"name", "dateFormat", "timezone"}``.
    :param schedule_params: the dataflow's schedule (``{"startTime": ..., "frequency": "once"}`` when Airflow
        starts each run with :func:`run_and_wait`); none for streaming.
    :param mapping_version: the mapping set version the dataflow uses (``0``).
    :param names: step -> resource name (steps ``base_connection``, ``source_connection``, ``schema``,
        ``dataset``, ``target_connection``, ``dataflow``).
    :param descriptions: step -> description.
    :param task_kwargs: step -> more operator arguments, e.g. ``{"source_connection": {"trigger_rule":
        "none_failed_min_one_success"}}`` (they win over the builder's).
    :param sandbox: the sandbox of every task (templated; the connection's when empty).
    :param aep_conn_id: the ``aep`` Airflow connection.
    :param group_id: the task group's id.
    :param prefix_group_id: prefix the task ids with ``group_id`` (Airflow's default); ``False`` keeps
        the bare ids (``create_dataflow``).
    :raises AEPConfigError: an argument is missing or wrong, naming it, when the DAG is parsed.
    """
    from airflow.sdk import TaskGroup

    from airflow_provider_aep.operators import (
        AEPCreateBaseConnectionOperator,
        AEPCreateDataflowOperator,
        AEPCreateSourceConnectionOperator,
        AEPGetFlowSpecOperator,
    )
    from airflow_provider_aep.sources import source_preset

    preset = source_preset(source) if source is not None else None
    if preset is not None and not preset.auth_spec_names and (source_conn_id or base_connection_id):
        raise AEPConfigError(f"source_conn_id: {source} has no account (base connection) to create or use")
    if source_conn_id and base_connection_id is not None:
        raise AEPConfigError("base_connection_id: give source_conn_id (a new account) or base_connection_id")
    if (
        preset is not None
        and preset.auth_spec_names
        and not (source_conn_id or base_connection_id is not None)
    ):
        raise AEPConfigError(
            f"source_conn_id: {source} reads its data through an account: give the Airflow connection "
            "holding its credentials (or base_connection_id of an existing account)"
        )
    flow_spec_name = flow_spec_name or (preset.flow_spec_name if preset and flow_spec_id is None else None)
    if flow_spec_id is None and flow_spec_name is None and preset is None:
        raise AEPConfigError("flow_spec_name: give the flow spec's name (looked up) or flow_spec_id")

    label = f" {preset.label}" if preset is not None else ""
    steps = _Steps(
        SETUP_STEPS, names, descriptions, task_kwargs, {"sandbox": sandbox, "aep_conn_id": aep_conn_id}
    )
    with TaskGroup(
        group_id=group_id, prefix_group_id=prefix_group_id, tooltip="AEP source to dataset"
    ) as group:
        base_connection = None
        if source_conn_id:
            base_connection = AEPCreateBaseConnectionOperator(
                **steps.kwargs(
                    "base_connection",
                    f"{name_prefix}{label} base connection",
                    source=source,
                    source_conn_id=source_conn_id,
                    connection_spec_id=connection_spec_id,
                    auth_spec_name=auth_spec_name,
                    credential_fields=credential_fields,
                )
            )
            base_connection_id = base_connection.output
        source_connection = AEPCreateSourceConnectionOperator(
            **steps.kwargs(
                "source_connection",
                f"{name_prefix}{label} source connection",
                source=source,
                connection_spec_id=connection_spec_id,
                data_format=data_format,
                base_connection_id=base_connection_id,
                table_name=table_name,
                columns=columns,
                path=path,
                source_params=source_params,
                source_schema_id=source_schema_id,
                source_schema_version=source_schema_version,
            )
        )
        schema, dataset, target_connection, mapping_set = _destination(
            steps,
            name_prefix=name_prefix,
            mappings=mappings,
            class_id=class_id,
            field_group_ids=field_group_ids,
            target_data_format=target_data_format,
        )
        flow_spec = None
        if flow_spec_id is None and flow_spec_name is not None:
            flow_spec = AEPGetFlowSpecOperator(**steps.kwargs("flow_spec", flow_spec_name))
            flow_spec_id = flow_spec.output
        dataflow = AEPCreateDataflowOperator(
            **steps.kwargs(
                "dataflow",
                f"{name_prefix} dataflow",
                source=source if flow_spec_id is None else None,
                flow_spec_id=flow_spec_id,
                source_connection_ids=source_connection.output,
                target_connection_ids=target_connection.output,
                mapping_id=mapping_set.output,
                mapping_version=mapping_version,
                delta_column=delta_column,
                schedule_params=schedule_params,
            )
        )
    return SourceToDataset(
        base_connection,
        source_connection,
        schema,
        dataset,
        target_connection,
        mapping_set,
        flow_spec,
        dataflow,
        group,
    )


def run_and_wait(
    *,
    flow_id: IdArg,
    delta_column: str | Mapping[str, Any] | None = None,
    window_start: Any = None,
    window_end: Any = None,
    poke_interval: float = 30.0,
    timeout: float = 7 * 24 * 3600.0,
    deferrable: bool | None = None,
    allow_partial_success: bool = False,
    max_failed_records: int | None = None,
    max_failed_ratio: float | None = None,
    outlets: Sequence[Any] = (),
    sandbox: str | None = None,
    aep_conn_id: str = "aep_default",
    run_task_id: str = "run_window",
    wait_task_id: str = "wait_for_run",
    task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    group_id: str = "run_and_wait",
    prefix_group_id: bool = True,
) -> RunAndWait:
    """Ingest this DAG run's window: an on-demand run of a dataflow scheduled ``once``, then a sensor that
    waits for it (tasks ``run_window`` and ``wait_for_run``), inside ``with DAG(...)``.

    The run task only starts the flow run (``AEPTriggerFlowRunOperator(wait_for_completion=False)``)
    over ``window_start``/``window_end``, by default the DAG run's data interval, else the last full UTC
    day before the run (the window rule of the docs' "Windows, backfills and trigger paths"); the sensor
    (``AEPFlowRunSensor``) waits for it and fails on anything but success, reports what landed
    (``run_report``) and applies the quality gate on dropped rows. A retry of either reuses the window's
    run: a window is never ingested twice.

    :param flow_id: the dataflow, e.g. ``source_to_dataset(...).dataflow.output``.
    :param delta_column: the column that dates each row (a name, or the dataflow's dict).
    :param window_start: window start (templated; empty: the window rule).
    :param window_end: window end (templated; empty: the window rule).
    :param poke_interval: seconds between two looks at the run.
    :param timeout: how long to wait for it, in seconds.
    :param deferrable: wait in the triggerer; ``None`` means ``[operators] default_deferrable``.
    :param allow_partial_success: accept a run that only partly succeeded.
    :param max_failed_records: dropped rows tolerated (none by default).
    :param max_failed_ratio: dropped rows over rows read tolerated, from 0 to 1.
    :param outlets: assets the sensor announces once the run succeeded (an AEP dataset asset, an
        ``AssetAlias``).
    :param sandbox: the sandbox of both tasks (templated).
    :param aep_conn_id: the ``aep`` Airflow connection.
    :param run_task_id: the run task's id.
    :param wait_task_id: the sensor's id.
    :param task_kwargs: ``run``/``wait`` -> more operator arguments (they win over the builder's).
    :param group_id: the task group's id.
    :param prefix_group_id: prefix the task ids with ``group_id`` (Airflow's default).
    """
    from airflow.sdk import TaskGroup

    from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
    from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

    extra = _per_step(task_kwargs, RUN_STEPS, "task_kwargs")
    common = {"sandbox": sandbox, "aep_conn_id": aep_conn_id}
    with TaskGroup(group_id=group_id, prefix_group_id=prefix_group_id, tooltip="AEP flow run") as group:
        run = AEPTriggerFlowRunOperator(
            **{
                "task_id": run_task_id,
                "flow_id": flow_id,
                "delta_column": delta_column,
                "window_start": window_start,
                "window_end": window_end,
                "wait_for_completion": False,
                **common,
                **dict(extra.get("run", {})),
            }
        )
        wait = AEPFlowRunSensor(
            **{
                "task_id": wait_task_id,
                "flow_run_id": run.output,
                "poke_interval": poke_interval,
                "timeout": timeout,
                "deferrable": deferrable,
                "allow_partial_success": allow_partial_success,
                "max_failed_records": max_failed_records,
                "max_failed_ratio": max_failed_ratio,
                "outlets": list(outlets),
                **common,
                **dict(extra.get("wait", {})),
            }
        )
    return RunAndWait(run, wait, group)
