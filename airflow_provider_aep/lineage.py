"""Where an ingestion's data came from and went: Airflow asset events and OpenLineage facets.

* :class:`DataflowLineage`: a dataflow's sources and datasets, read from Flow Service once a wait
  is over (``GET /flows/{id}``, then each target connection's ``params.dataSetId`` and, for
  OpenLineage, each source connection).
* :class:`Ingestion`: what the task's runs did (flow, runs, window, record counts, batches); its
  :meth:`~Ingestion.event_extra` is the ``extra`` of the asset events.
* :class:`AEPLineageMixin`: the run operator and the sensor end every wait with
  :meth:`~AEPLineageMixin.conclude_wait`: the run report and the quality gate (``settle``), then
  :meth:`~AEPLineageMixin.record_ingestion`, which fills ``outlet_events`` for the AEP datasets in
  ``outlets`` (an ``aep://`` asset, or an ``AssetAlias`` that gets the dataflow's datasets). It keeps
  what ``get_openlineage_facets_on_complete`` and ``get_openlineage_facets_on_failure`` report.

Nothing here imports OpenLineage, the hooks or the models at module level: the operators import this
module at DAG-parse time (hence ``NamedTuple`` rather than dataclasses, which cost more to define), and
``apache-airflow-providers-openlineage`` is an optional extra.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_aep.assets import AEPDatasetRef, is_aep_asset, normal_org_id, normal_sandbox
from airflow_provider_aep.openlineage_facets import (
    dropped_rows_test,
    error_message_facet,
    failure_message,
    ingestion_openlineage,
    openlineage_enabled,
    task_error,
)

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_aep.flow_runs.interpretation import FlowRunReport, FlowRunVerdict
    from airflow_provider_aep.flow_runs.report import QualityGate, RunReport
    from airflow_provider_aep.hooks.aep import AEPHook

log = logging.getLogger(__name__)

#: ``metrics.recordSummary`` counts and the ``extra`` keys they become.
RECORD_COUNTS = (
    ("inputRecordCount", "input_records"),
    ("outputRecordCount", "output_records"),
    ("failedRecordCount", "failed_records"),
)


class SourceRef(NamedTuple):
    """A dataflow's source connection: its id, name and the table (or path) it reads, when shown."""

    connection_id: str
    name: str | None = None
    table: str | None = None


class DataflowLineage(NamedTuple):
    """A dataflow's inputs and outputs in one org and sandbox.

    :ivar org_id: the IMS org (normalised as in the asset URI).
    :ivar sandbox: the sandbox (lower case).
    :ivar flow_id: the dataflow.
    :ivar dataset_ids: the datasets its target connections write (``params.dataSetId``).
    :ivar sources: its source connections (read only for OpenLineage; empty otherwise).
    """

    org_id: str
    sandbox: str
    flow_id: str
    dataset_ids: tuple[str, ...]
    sources: tuple[SourceRef, ...] = ()

    @property
    def datasets(self) -> tuple[AEPDatasetRef, ...]:
        return tuple(AEPDatasetRef.of(d, self.sandbox, self.org_id) for d in self.dataset_ids)

    @property
    def namespace(self) -> str:
        """``aep://<org_id>/<sandbox>``."""
        return f"aep://{self.org_id}/{self.sandbox}"


def read_dataflow_lineage(hook: AEPHook, flow_id: str, *, with_sources: bool = False) -> DataflowLineage:
    """Read a dataflow's datasets (and sources) from Flow Service.

    ``GET /flows/{id}``, then ``GET /targetConnections/{id}`` for each target connection (its
    ``params.dataSetId``) and, with ``with_sources``, ``GET /sourceConnections/{id}`` for each source
    connection (its name and ``params.tableName`` or ``params.path``).

    :param hook: the task's hook (its connection gives the org, its sandbox the sandbox).
    :param flow_id: the dataflow.
    :param with_sources: also read the source connections (OpenLineage inputs).
    """
    settings = hook.settings
    flow = hook.get_item("flowservice", f"/flows/{flow_id}")
    dataset_ids: list[str] = []
    for target_id in _ids(flow.get("targetConnectionIds")):
        target = hook.get_item("flowservice", f"/targetConnections/{target_id}")
        dataset_id = _mapping(target.get("params")).get("dataSetId")
        if isinstance(dataset_id, str) and dataset_id and dataset_id not in dataset_ids:
            dataset_ids.append(dataset_id)
    sources: list[SourceRef] = []
    if with_sources:
        for source_id in _ids(flow.get("sourceConnectionIds")):
            source = hook.get_item("flowservice", f"/sourceConnections/{source_id}")
            params = _mapping(source.get("params"))
            table = params.get("tableName") or params.get("path")
            sources.append(
                SourceRef(
                    source_id,
                    _text(source.get("name")),
                    table if isinstance(table, str) and table else None,
                )
            )
    return DataflowLineage(
        normal_org_id(settings.org_id),
        normal_sandbox(settings.sandbox),
        flow_id,
        tuple(dataset_ids),
        tuple(sources),
    )


class Ingestion(NamedTuple):
    """What an ingesting task's run(s) did, read from their reports.

    :ivar flow_id: the dataflow.
    :ivar run_ids: the runs (one for the run operator; the covering runs in the sensor's window mode).
    :ivar window_start: the data window's start, epoch seconds (``None`` when nobody shows one).
    :ivar window_end: the data window's end, epoch seconds.
    :ivar records: ``input_records``, ``output_records``, ``failed_records`` summed over the runs
        (``None`` when no run reports the count).
    :ivar batch_ids: the Catalog batches the runs wrote, each once.
    """

    flow_id: str | None
    run_ids: tuple[str, ...]
    window_start: int | None
    window_end: int | None
    records: Mapping[str, int | None]
    batch_ids: tuple[str, ...]

    @classmethod
    def from_reports(
        cls,
        reports: Sequence[FlowRunReport],
        flow_id: str | None = None,
        window: tuple[int, int] | None = None,
    ) -> Ingestion:
        """Sum the runs' counts; the window is the one given, else the span the runs show."""
        if window is None:
            shown = [
                (r.window_start, r.window_end)
                for r in reports
                if r.window_start is not None and r.window_end is not None
            ]
            if shown:
                window = (min(s for s, _ in shown), max(e for _, e in shown))
        records: dict[str, int | None] = {}
        for aep_name, key in RECORD_COUNTS:
            counts = [r.records[aep_name] for r in reports if aep_name in r.records]
            records[key] = sum(counts) if counts else None
        batches: list[str] = []
        for report in reports:
            batches.extend(b for b in report.batch_ids if b not in batches)
        return cls(
            flow_id=flow_id or next((r.flow_id for r in reports if r.flow_id), None),
            run_ids=tuple(r.run_id for r in reports),
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            records=records,
            batch_ids=tuple(batches),
        )

    @property
    def run_id(self) -> str | None:
        """The run (the latest one when there are several)."""
        return self.run_ids[-1] if self.run_ids else None

    def event_extra(self, dataset: AEPDatasetRef) -> dict[str, Any]:
        """The ``extra`` of the asset event of ``dataset`` (JSON-safe)."""
        return {
            "org_id": dataset.org_id,
            "sandbox": dataset.sandbox,
            "dataset_id": dataset.dataset_id,
            "flow_id": self.flow_id,
            "run_id": self.run_id,
            "run_ids": list(self.run_ids),
            "window_start": self.window_start,
            "window_end": self.window_end,
            **self.records,
            "batch_ids": list(self.batch_ids),
        }


def aep_outlets(outlets: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """The outlets an ingesting task fills: ``aep://`` assets, and asset aliases."""
    from airflow.sdk import AssetAlias

    listed = list(outlets or ())
    return [o for o in listed if is_aep_asset(o)], [o for o in listed if isinstance(o, AssetAlias)]


def check_outlets(assets: Sequence[Any], lineage: DataflowLineage) -> None:
    """Fail when an ``aep://`` outlet is not a dataset the dataflow writes (in this org and sandbox).

    :raises AEPConfigError: naming the outlet and the datasets the dataflow does write.
    """
    from airflow_provider_aep.exceptions import AEPConfigError

    written = {ref.uri for ref in lineage.datasets}
    for asset in assets:
        ref = AEPDatasetRef.parse(asset.uri)
        if ref.uri not in written:
            raise AEPConfigError(
                f"outlet {ref.uri} is not a dataset AEP dataflow {lineage.flow_id} writes in org "
                f"{lineage.org_id}, sandbox {lineage.sandbox}: it writes "
                f"{', '.join(sorted(written)) or 'no dataset'}. Declare the dataflow's dataset in outlets."
            )


def fill_outlet_events(
    outlet_events: Any,
    assets: Sequence[Any],
    aliases: Sequence[Any],
    lineage: DataflowLineage,
    ingestion: Ingestion,
) -> list[str]:
    """Set each ``aep://`` outlet's event ``extra`` and add one event per dataset to each alias.

    :returns: the URIs of the datasets that get an event.
    """
    from airflow_provider_aep.assets import aep_dataset_asset

    announced: list[str] = []
    for asset in assets:
        ref = AEPDatasetRef.parse(asset.uri)
        outlet_events[asset].extra.update(ingestion.event_extra(ref))
        announced.append(ref.uri)
    for alias in aliases:
        for ref in lineage.datasets:
            outlet_events[alias].add(
                aep_dataset_asset(ref.dataset_id, sandbox=ref.sandbox, org_id=ref.org_id),
                extra=ingestion.event_extra(ref),
            )
            announced.append(ref.uri)
    return announced


#: A data window, or what computes it (called only when an outlet or OpenLineage needs it).
WindowSource = tuple[int, int] | Callable[[], tuple[int, int]] | None


class AEPLineageMixin:
    """Asset events and OpenLineage facets of a task that waits for a dataflow's runs.

    The task ends every wait with :meth:`conclude_wait`. When its ``outlets`` hold an ``aep://``
    dataset asset or an ``AssetAlias``, or OpenLineage is enabled, the dataflow's datasets are read
    (two or three Flow Service GETs); otherwise nothing is called. When the wait fails the task,
    the same is read with OpenLineage enabled, so the ``FAIL`` event names the inputs and outputs a
    ``COMPLETE`` one would.
    """

    aep_lineage: DataflowLineage | None = None
    aep_ingestion: Ingestion | None = None
    #: The report of the wait's runs (``settle``'s; rebuilt from the runs when ``settle`` failed).
    aep_report: RunReport | None = None
    #: Whether the runs passed the quality gate on dropped rows (``None``: it was not reached).
    aep_gate_passed: bool | None = None

    def check_outlets_can_be_filled(self, waits: bool) -> None:
        """Refuse AEP outlets on a task that does not wait for its run (nothing has landed yet)."""
        assets, aliases = aep_outlets(getattr(self, "outlets", None) or ())
        if (assets or aliases) and not waits:
            raise ValueError(
                f"{type(self).__name__} {getattr(self, 'task_id', '')!r}: an AEP dataset asset or an "
                "AssetAlias in outlets needs wait_for_completion=True (the data has not landed when "
                "the run starts); declare it on the AEPFlowRunSensor that waits for the run instead"
            )

    def conclude_wait(
        self,
        context: Mapping[str, Any],
        hook: AEPHook,
        verdict: FlowRunVerdict,
        *,
        gate: QualityGate,
        flow_id: str | None,
        window: WindowSource,
    ) -> RunReport:
        """End a wait whose runs finished: report and gate them (``settle``), then :meth:`record_ingestion`.

        When ``settle`` fails the task (a run that did not succeed, rows dropped over the gate), the
        runs' report is kept for :meth:`get_openlineage_facets_on_failure` and, with OpenLineage
        enabled, the dataflow's sources and datasets are read (never hiding the failure) before the
        error goes on.

        :param context: the task context (``ti`` for the ``run_report`` XCom, ``outlet_events``).
        :param hook: the task's hook.
        :param verdict: what the wait found (its runs have ended).
        :param gate: the task's quality gate on dropped rows.
        :param flow_id: the dataflow (else read from the runs).
        :param window: see :meth:`record_ingestion`.
        :returns: the run report.
        """
        from airflow_provider_aep.exceptions import AEPDroppedRowsError
        from airflow_provider_aep.flow_runs.report import build_report
        from airflow_provider_aep.flow_runs.waiting import settle

        task_log = getattr(self, "log", log)
        try:
            report = settle(verdict, task_log, hook=hook, context=context, gate=gate)
        except Exception as exc:
            self.aep_report = build_report(verdict.reports)
            self.aep_gate_passed = False if isinstance(exc, AEPDroppedRowsError) else None
            if openlineage_enabled():
                try:
                    self._learn_lineage(hook, verdict.reports, flow_id, window, with_sources=True)
                except Exception:
                    task_log.warning(
                        "OpenLineage: could not read the dataflow of the failed wait", exc_info=True
                    )
            raise
        self.aep_report, self.aep_gate_passed = report, True
        self.record_ingestion(context, hook, verdict.reports, flow_id=flow_id, window=window)
        return report

    def record_ingestion(
        self,
        context: Mapping[str, Any],
        hook: AEPHook,
        reports: Sequence[FlowRunReport],
        *,
        flow_id: str | None,
        window: WindowSource,
    ) -> None:
        """After a successful wait: fill the AEP outlets' events and keep the OpenLineage facts.

        :param context: the task context (its ``outlet_events``).
        :param hook: the task's hook (org, sandbox, and the calls).
        :param reports: the runs that succeeded.
        :param flow_id: the dataflow (else read from the reports).
        :param window: the data window the task asked for, or what computes it (called only when an
            outlet or OpenLineage needs it); else the span the runs show.
        :raises AEPConfigError: an ``aep://`` outlet that is not a dataset of the dataflow.
        """
        task_log = getattr(self, "log", log)
        assets, aliases = aep_outlets(getattr(self, "outlets", None) or ())
        lineage_wanted = openlineage_enabled()
        if not (assets or aliases or lineage_wanted):
            return
        try:
            lineage = self._learn_lineage(hook, reports, flow_id, window, with_sources=lineage_wanted)
        except Exception:
            if assets or aliases:
                raise  # the events cannot be right without the dataflow's datasets
            task_log.warning("OpenLineage: could not read the dataflow of the runs", exc_info=True)
            return
        if lineage is None or self.aep_ingestion is None:
            return
        if assets or aliases:
            ingestion = self.aep_ingestion
            check_outlets(assets, lineage)
            uris = fill_outlet_events(context["outlet_events"], assets, aliases, lineage, ingestion)
            task_log.info(
                "Asset events for %s: run(s) %s, records %s, batches %s",
                ", ".join(uris) or "no dataset",
                ", ".join(ingestion.run_ids),
                dict(ingestion.records),
                list(ingestion.batch_ids),
            )

    def _learn_lineage(
        self,
        hook: AEPHook,
        reports: Sequence[FlowRunReport],
        flow_id: str | None,
        window: WindowSource,
        *,
        with_sources: bool,
    ) -> DataflowLineage | None:
        """Keep what the runs did (:class:`Ingestion`) and read their dataflow (``None``: no flow id)."""
        if callable(window):
            try:
                window = window()
            except ValueError:  # no window in this context (AEPConfigError): the runs' own
                getattr(self, "log", log).warning(
                    "No data window in this context; the events show the runs' windows"
                )
                window = None
        ingestion = Ingestion.from_reports(reports, flow_id, window)
        self.aep_ingestion = ingestion
        if ingestion.flow_id is None:
            return None
        self.aep_lineage = read_dataflow_lineage(hook, ingestion.flow_id, with_sources=with_sources)
        return self.aep_lineage

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """OpenLineage: the dataflow's source connections in, its datasets out, with record counts, and
        the quality gate's ``test`` (also for a sensor that ``soft_fail`` skipped on dropped rows: the
        Airflow provider reports a skip as complete, and the rows AEP wrote did land)."""
        if self.aep_lineage is None:
            return None
        return ingestion_openlineage(self.aep_lineage, self.aep_ingestion, self._gate_facets())

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """OpenLineage ``FAIL``: what the task learned before failing, and why it failed.

        Once its runs had ended: the inputs and outputs of :meth:`get_openlineage_facets_on_complete`
        (the row count written when AEP reported it) and the run as ``externalQuery``. Always, when
        known: an ``errorMessage`` run facet with the exception's message and the runs' report (ids,
        statuses, record counts, error codes), secrets masked; and a ``test`` run facet when rows
        dropped over the quality gate failed the task. A task that failed before its runs ended
        (a bad argument, AEP refusing a call, a timeout) reports no dataset itself: the OpenLineage
        provider then reports the task's ``inlets``/``outlets``.

        :param task_instance: the failed task instance; Airflow 3's task runner has put the exception in
            its context (``exception``, as ``on_failure_callback`` sees it) before the listener calls.
        """
        message = failure_message(task_error(task_instance), self.aep_report)
        error_facets = {} if message is None else {"errorMessage": error_message_facet(message)}
        facets = {**self._gate_facets(), **error_facets}
        if self.aep_lineage is not None:
            return ingestion_openlineage(self.aep_lineage, self.aep_ingestion, facets)
        if not facets:
            return None
        from airflow.providers.openlineage.extractors import OperatorLineage

        return OperatorLineage(run_facets=facets)

    def _gate_facets(self) -> dict[str, Any]:
        """The ``test`` run facet of the quality gate, once the runs reached it."""
        if self.aep_report is None or self.aep_gate_passed is None:
            return {}
        facet = dropped_rows_test(self.aep_report, self.aep_gate_passed, getattr(self, "quality_gate", None))
        return {} if facet is None else {"test": facet}


def _ids(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str) and v]
    return []


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
