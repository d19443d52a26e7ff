"""OpenLineage facets of the ingestion tasks: what :class:`~airflow_provider_aep.lineage.AEPLineageMixin`
reports on ``COMPLETE`` and ``FAIL``, and the converter of ``aep://`` assets.

Nothing here imports OpenLineage at module level: ``apache-airflow-providers-openlineage`` is an
optional extra, and these functions run only when its listener calls (or, for
:func:`openlineage_enabled`, to decide whether a task reads what lineage needs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.assets import AEPDatasetRef

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset as OpenLineageDataset
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Asset

    from airflow_provider_aep.flow_runs.report import QualityGate, RunReport
    from airflow_provider_aep.lineage import DataflowLineage, Ingestion

log = logging.getLogger(__name__)


def openlineage_enabled() -> bool:
    """Whether the OpenLineage provider is installed and not disabled (it has a transport)."""
    try:
        from airflow.providers.openlineage.conf import is_disabled
    except ImportError:
        return False
    try:
        return not is_disabled()
    except Exception:  # a broken [openlineage] config must not fail an ingestion
        log.warning("Could not read the [openlineage] configuration", exc_info=True)
        return False


def ingestion_openlineage(
    lineage: DataflowLineage, ingestion: Ingestion | None, run_facets: Mapping[str, Any] | None = None
) -> OperatorLineage[Any, Any]:
    """Inputs: the source connections; outputs: the datasets; the run as an external query.

    Names: namespace ``aep://<org_id>/<sandbox>``; a source connection is
    ``sourceConnections/<id>`` (its table in a ``symlinks`` facet, its name in ``documentation``),
    a dataset ``datasets/<id>`` (``namespace/name`` is its asset URI). With one source or one dataset,
    the runs' input/output record counts are its ``inputStatistics``/``outputStatistics``.

    :param run_facets: more run facets (the gate's ``test``, a failure's ``errorMessage``).
    """
    from airflow.providers.common.compat.openlineage.facet import (
        DocumentationDatasetFacet,
        ExternalQueryRunFacet,
        Identifier,
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
        SymlinksDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    records = ingestion.records if ingestion else {}
    namespace = lineage.namespace
    inputs = []
    for source in lineage.sources:
        facets: dict[str, Any] = {}
        if source.table:
            facets["symlinks"] = SymlinksDatasetFacet(
                identifiers=[Identifier(namespace=namespace, name=source.table, type="TABLE")]
            )
        described = " ".join(
            part
            for part in (
                f"AEP source connection {source.name!r}" if source.name else "AEP source connection",
                f"reading {source.table}" if source.table else "",
            )
            if part
        )
        facets["documentation"] = DocumentationDatasetFacet(description=described)
        input_facets: dict[str, Any] = {}
        statistics = _input_statistics(records.get("input_records"))
        if statistics is not None and len(lineage.sources) == 1:
            input_facets["inputStatistics"] = statistics
        inputs.append(
            InputDataset(
                namespace=namespace,
                name=f"sourceConnections/{source.connection_id}",
                facets=facets,
                inputFacets=input_facets,
            )
        )
    outputs = []
    for dataset in lineage.datasets:
        output_facets: dict[str, Any] = {}
        rows = records.get("output_records")
        if rows is not None and len(lineage.dataset_ids) == 1:
            output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=rows)
        outputs.append(
            OutputDataset(namespace=dataset.namespace, name=dataset.name, outputFacets=output_facets)
        )
    facets_of_run: dict[str, Any] = {}
    if ingestion is not None and len(ingestion.run_ids) == 1:
        facets_of_run["externalQuery"] = ExternalQueryRunFacet(
            externalQueryId=ingestion.run_ids[0], source=namespace
        )
    facets_of_run.update(run_facets or {})
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=facets_of_run)


#: Name of the quality gate's test in the ``test`` run facet.
DROPPED_ROWS_TEST = "aep_dropped_rows"


def dropped_rows_test(report: RunReport, passed: bool, gate: QualityGate | None) -> Any:
    """The quality gate as OpenLineage's ``TestRunFacet`` (``None`` with a client that lacks it).

    One test, ``aep_dropped_rows``: ``actual`` is the records AEP dropped in runs it called
    successful, ``expected`` what the task tolerates; ``params`` hold the run's record counts and its
    first error codes. The gate is a check of the run, not of a dataset's content, hence a run facet:
    the client's dataset-level quality facets are input facets (``dataQualityAssertions``) or column
    metrics (``dataQualityMetrics``), neither of which can say "AEP dropped N rows writing this".
    """
    try:  # older openlineage-python clients do not define it
        from openlineage.client.generated.test_run import TestExecution, TestRunFacet
    except ImportError:
        return None
    from airflow_provider_aep.flow_runs.report import MAX_CODES

    return TestRunFacet(
        tests=[
            TestExecution(
                name=DROPPED_ROWS_TEST,
                status="pass" if passed else "fail",
                severity="error",
                type="failed_records",
                description="records AEP dropped in flow runs it calls successful (the task's quality gate)",
                expected=gate_tolerance(gate),
                actual=str(report.records_failed),
                params={
                    "run_ids": list(report.run_ids),
                    "records_read": report.records_read,
                    "records_written": report.records_written,
                    "records_failed": report.records_failed,
                    "failed_ratio": round(report.failed_ratio, 6),
                    "error_codes": list(report.error_codes)[:MAX_CODES],
                },
            )
        ]
    )


def gate_tolerance(gate: QualityGate | None) -> str:
    """What a quality gate tolerates, in its arguments' words."""
    if gate is not None and gate.tolerate_all:
        return "any (allow_partial_success=True)"
    limits = []
    if gate is not None and gate.max_failed_records is not None:
        limits.append(f"max_failed_records={gate.max_failed_records}")
    if gate is not None and gate.max_failed_ratio is not None:
        limits.append(f"max_failed_ratio={gate.max_failed_ratio:g}")
    return " and ".join(limits) or "0 (or the share the dataflow's partial ingestion allows)"


def task_error(task_instance: Any) -> BaseException | None:
    """The exception a task failed with, from its context (``None`` when it is not there)."""
    get_context = getattr(task_instance, "get_template_context", None)
    if not callable(get_context):
        return None
    try:
        error = get_context().get("exception")
    except Exception:  # a task instance without a context: nothing to add
        return None
    return error if isinstance(error, BaseException) else None


def failure_message(error: BaseException | None, report: RunReport | None) -> str | None:
    """The exception (type and message), then the runs' report, secrets masked (``None``: neither)."""
    parts = [f"{type(error).__name__}: {error}"] if error is not None else []
    if report is not None and report.run_ids:
        parts.append(report.summary())
    return masked("\n".join(parts)) if parts else None


def error_message_facet(message: str) -> Any:
    """OpenLineage's ``ErrorMessageRunFacet`` of a failure (the stack trace is the listener's)."""
    from airflow.providers.common.compat.openlineage.facet import ErrorMessageRunFacet

    return ErrorMessageRunFacet(message=message, programmingLanguage="python")


def masked(text: str) -> str:
    """``text`` through Airflow's secret masker: every registered secret (the connection's client
    secret, access tokens, source credentials) becomes ``***``, as in the task's log."""
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow < 3.2
        from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef]
    return str(redact(text))


def dataset_openlineage(
    dataset: AEPDatasetRef, name: str | None, created: bool | None
) -> OperatorLineage[Any, Any]:
    """The dataset an ``AEPCreateDatasetOperator`` ensured, as its output (``CREATE`` when it made it)."""
    from airflow.providers.common.compat.openlineage.facet import (
        DocumentationDatasetFacet,
        LifecycleStateChange,
        LifecycleStateChangeDatasetFacet,
        OutputDataset,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    facets: dict[str, Any] = {}
    if name:
        facets["documentation"] = DocumentationDatasetFacet(description=f"AEP dataset {name!r}")
    if created:
        facets["lifecycleStateChange"] = LifecycleStateChangeDatasetFacet(
            lifecycleStateChange=LifecycleStateChange.CREATE
        )
    return OperatorLineage(
        outputs=[OutputDataset(namespace=dataset.namespace, name=dataset.name, facets=facets)]
    )


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any = None) -> OpenLineageDataset:
    """The OpenLineage dataset of an ``aep://`` asset (``get_provider_info()["asset-uris"]``).

    Namespace ``aep://<org_id>/<sandbox>``, name ``datasets/<dataset_id>``: the same identity the
    ingesting tasks report as their output.
    """
    from airflow.providers.common.compat.openlineage.facet import Dataset

    ref = AEPDatasetRef.parse(asset.uri)
    return Dataset(namespace=ref.namespace, name=ref.name)


def _input_statistics(rows: int | None) -> Any:
    if rows is None:
        return None
    try:  # openlineage-python >= 1.2x; older clients have no input statistics facet
        from openlineage.client.generated.input_statistics_input_dataset import (
            InputStatisticsInputDatasetFacet,
        )
    except ImportError:
        return None
    return InputStatisticsInputDatasetFacet(rowCount=rows)
