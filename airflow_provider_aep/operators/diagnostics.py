"""``AEPGetFailedRowsOperator``: write the rows a flow run's batches dropped, as JSON lines.

The rows come from the batches' error diagnostics (Data Access ``GET /batches/{id}/meta?path=row_errors``
and the files it lists, help/ingestion/quality/error-diagnostics.md), read and masked by
:mod:`airflow_provider_aep.flow_runs.diagnostics`. Importing this module imports neither the hook nor
the reading code: a DAG file that uses the operator parses as fast as before.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_aep.exceptions import AEPConfigError, AEPError
from airflow_provider_aep.operators.base import AEPBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.flow_runs.diagnostics import FailedRow
    from airflow_provider_aep.operators.base import IdArg

#: Rows written when ``limit`` is not given.
DEFAULT_LIMIT = 10_000


class AEPGetFailedRowsOperator(AEPBaseOperator):
    """Read the failed rows of a flow run's batches (or of given batches) and write them as JSON lines.

    Each line is ``{"batch_id", "file", "codes", "messages", "record"}``: the error file it came from,
    the error codes (``1401``, ``1555``...) and messages, and the rejected input (an object when AEP
    kept it as JSON). Values of fields named like secrets (and shared access signatures) are given to
    Airflow's secret masker and written as ``***``.

    A batch without failed rows, or without error diagnostics, adds no row (the reason is logged); a
    batch Catalog does not know fails the task, and so do diagnostics that expired (AEP keeps them 30
    days after the batch completed).

    Returns ``{"path", "count", "batch_ids"}``: where the rows are, how many, from which batches.

    :param flow_run_id: the flow run whose batches to read (templated; an upstream ``.output`` works,
        e.g. ``AEPTriggerFlowRunOperator``'s run id).
    :param batch_ids: Catalog batch ids instead (templated): a list, or a string of ids separated by
        commas. Give exactly one of ``flow_run_id`` and ``batch_ids``.
    :param output_path: where to write (templated): a local file path, or a URI Airflow's
        ``ObjectStoragePath`` opens (``file://``, ``s3://`` with the Amazon provider installed...).
        A local file's directories are created; the file is replaced whole.
    :param output_conn_id: the Airflow connection of the object storage (for a URI).
    :param limit: most rows written, over all batches.
    """

    template_fields: Sequence[str] = (
        *AEPBaseOperator.template_fields,
        "flow_run_id",
        "batch_ids",
        "output_path",
    )

    def __init__(
        self,
        *,
        output_path: str,
        flow_run_id: IdArg | None = None,
        batch_ids: Sequence[str] | str | None = None,
        output_conn_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (flow_run_id is None) == (batch_ids is None):
            raise AEPConfigError("give exactly one of flow_run_id and batch_ids")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise AEPConfigError(f"limit: must be a positive integer, got {limit!r}")
        if not isinstance(output_path, str) or not output_path.strip():
            raise AEPConfigError("output_path: must be a file path or an object storage URI")
        self.flow_run_id = flow_run_id
        self.batch_ids = batch_ids
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        self.limit = limit

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.flow_runs.diagnostics import read_diagnostics

        batch_ids = self._batch_ids()
        diagnostics = read_diagnostics(self.hook, batch_ids, self.limit)
        unknown = [batch.batch_id for batch in diagnostics if not batch.known]
        if unknown:
            raise AEPError(f"Catalog does not know the batch(es) {', '.join(unknown)}")
        for batch in diagnostics:
            if batch.note:
                self.log.info("%s", batch.note)
        rows = [row for batch in diagnostics for row in batch.rows]
        path = self._write(rows)
        self.log.info("Wrote %d failed row(s) of %d batch(es) to %s", len(rows), len(batch_ids), path)
        return {"path": path, "count": len(rows), "batch_ids": batch_ids}

    def _batch_ids(self) -> list[str]:
        """The batches to read: the ones the flow run wrote, or the ones given."""
        if self.flow_run_id is not None:
            from airflow_provider_aep.flow_runs.interpretation import read_flow_run

            run_id = self.flow_run_id
            if not isinstance(run_id, str) or not run_id.strip():
                raise AEPConfigError(f"flow_run_id: must be a non-empty run id, got {run_id!r}")
            report = read_flow_run(
                self.hook.get_item("flowservice", f"/runs/{quote(run_id.strip(), safe='')}")
            )
            if not report.batch_ids:
                self.log.warning(
                    "Flow run %s wrote no batch (status %s): no failed rows to read",
                    run_id,
                    report.raw_status,
                )
            return list(report.batch_ids)
        return _id_list(self.batch_ids)

    def _write(self, rows: list[FailedRow]) -> str:
        content = "".join(json.dumps(row.as_dict(), ensure_ascii=False, default=str) + "\n" for row in rows)
        data = content.encode("utf-8")
        if "://" in self.output_path:
            from airflow.sdk import ObjectStoragePath

            target = ObjectStoragePath(self.output_path, conn_id=self.output_conn_id)
            if target.protocol in ("file", "local"):
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return str(target)
        path = Path(self.output_path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return str(path)


def _id_list(value: Any) -> list[str]:
    """Batch ids from a list, or from a string of ids separated by commas (a rendered template)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text.strip("[]").replace("'", "").replace('"', "").split(",")
        else:
            value = text.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise AEPConfigError(f"batch_ids: must be a list of batch ids, got {value!r}")
    ids = [item.strip() for item in value if item.strip()]
    if not ids:
        raise AEPConfigError("batch_ids: no batch id given")
    return ids
