"""Data Access (``/data/foundation/export``): the error diagnostics of the batches flow runs wrote.

Sources: help/ingestion/quality/error-diagnostics.md (summarised in
``adobe-docs/ingestion-quality/error-diagnostics.md``) and the monitoring page
help/sources/tutorials/api/monitor.md, whose promotion activity links a run to ``path=input_files``,
``path=row_errors`` and ``path=row_error_samples.json`` of its batch. One route serves them all,
``GET /batches/{BATCH_ID}/meta[?path=...]``:

* ``path=row_errors``: the list of error files, ``{data: [{name, length, _links.self.href}], _page:
  {limit: 100, count}}``, present only when the batch has failed rows and diagnostics (a batch whose
  errors say ``INGEST-1211-400``, "resend with error diagnostics enabled", has none). As in the
  document's example there are ``conversion_errors_N.json`` and ``parsing_errors_N.json`` files
  (``N`` from 0, at most :data:`ROWS_PER_FILE` rows each), each ``href`` an absolute URL whose
  ``path`` names the file with an encoded slash (``row_errors%2Fconversion_errors_0.json``).
* ``path=row_errors/<file>``: the file, JSON Lines of ``{_corrupt_record, _errors: [{code, message}],
  _filename}``, one line per failed record of the run (exactly ``failedRecordCount`` lines over all
  files). Rows come from the emulator's sample data (:mod:`.sample_data`) for the run's window: which
  rows fail is decided per row (the same source rows fail in every run that reads them), so the
  answer is deterministic. ``_corrupt_record`` holds the columns the source connection reads
  (``params.columns``, else every column of the table; a declared column the table lacks gets a made-up
  deterministic value). Codes as the document shows them: ``1401`` (a row that cannot be parsed: its
  record has unquoted keys, like the document's ``{missingQuotes: "v1"}``) in ``parsing_errors``,
  ``1555`` (a required field missing or null) in ``conversion_errors``. ``_filename`` is the error
  file's own name, as in the document's example.
* ``path=row_error_samples.json`` (the Data Access spec also spells it ``row_errors_sample.json``;
  both are served): "the sampled set of row errors". Adobe documents no shape: the emulator answers
  the first :data:`SAMPLE_ROWS` rows of the error files, in their shape, as JSON Lines.
* ``path=input_files``: ``fileMetaData1.json``, listed the same way; the file answers JSON Lines of
  ``{"path": ...}`` (the source table the run read).
* no ``path``: the meta directory itself (``input_files``, ``row_errors`` and the samples file).

"Diagnostics for input files are kept for up to 30 days": once :data:`RETENTION_SECONDS` have passed
on the emulated clock since the batch completed, every path of its meta directory answers ``404``.
A batch no finished run wrote, a path that does not exist, ``row_errors`` of a batch without failed
rows: ``404`` as well. Adobe documents no Data Access error body (the spec's ``404`` is "The path is not
found." without content): the emulator answers a problem-details body like Catalog's, ``{type:
".../errors/EXPORT-<status>", title, status, detail}``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator import batches, runs, sample_data
from aep_emulator.errors import ApiError
from aep_emulator.gateway import Call, int_param, json_response, platform_routes
from aep_emulator.state import Resource, Store

PREFIX = "/data/foundation/export"
#: help/ingestion/quality/error-diagnostics.md: "retained within Platform for up to 30 days".
RETENTION_SECONDS = 30 * 86400
#: Data Access lists: "By default, 100 meta files are shown ... the maximum" (``retrieveBatchMeta``).
MAX_LIMIT = 100
#: Rows in one error file before the next one (``..._1.json``); Adobe documents no size.
ROWS_PER_FILE = 1000
#: Rows of ``row_error_samples.json``; Adobe documents no size.
SAMPLE_ROWS = 10
SAMPLE_FILES = ("row_error_samples.json", "row_errors_sample.json")
INPUT_FILE = "fileMetaData1.json"
#: The one batch error of a batch that dropped rows without error diagnostics (error-diagnostics.md).
NO_DIAGNOSTICS_CODE = "INGEST-1211-400"
ERROR_KINDS = (
    # (file prefix, code, message): codes and the 1401 message as the document's examples show them
    ("conversion_errors", "1555", "A required field is either missing or has a value of null: {field}."),
    ("parsing_errors", "1401", "Row is corrupted and cannot be read, please fix and resend."),
)


def export_error(status: int, message: str) -> ApiError:
    """A Data Access error: Adobe documents no body, so a problem-details one like Catalog's."""
    return ApiError(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/EXPORT-{status}",
            "title": message,
            "status": status,
            "detail": message,
        },
    )


def export_bad_request(message: str) -> ApiError:
    """Data Access's 400 for input it cannot use."""
    return export_error(400, message)


def _not_found(batch_id: str, path: str | None) -> ApiError:
    where = f"path {path!r} of batch {batch_id}" if path else f"batch {batch_id}"
    return export_error(404, f"The path is not found: {where}")


@dataclass(frozen=True)
class FailedRecord:
    """One failed row of a batch, as its error file line shows it.

    :param file: the error file that holds it (``conversion_errors_0.json``).
    :param line: the line, ``{_corrupt_record, _errors, _filename}``.
    """

    file: str
    line: dict[str, Any]


def _digest(*parts: object) -> int:
    text = ":".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _run_of_batch(store: Store, sandbox: str, batch_id: str) -> Resource | None:
    for run in store.kind(sandbox, "runs").values():
        if run["plan"].get("batchId") == batch_id:
            return run
    return None


def _source(store: Store, sandbox: str, run: Resource) -> tuple[str | None, list[str] | None]:
    """The table the run read and the columns its source connection declares (``None``: all)."""
    for source_id in run["plan"].get("sourceConnectionIds") or []:
        source = store.kind(sandbox, "sourceConnections").get(source_id)
        if source is None:
            continue
        raw = source.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        table = params.get("tableName") or params.get("path")
        declared = params.get("columns")
        columns = None
        if isinstance(declared, list):
            names = [str(c["name"]) for c in declared if isinstance(c, dict) and c.get("name")]
            columns = names or None
        return (str(table) if isinstance(table, str) else None), columns
    return None, None


def _delta_column(store: Store, sandbox: str, run: Resource) -> str:
    delta = (run.get("params") or {}).get("deltaColumn")
    if isinstance(delta, dict) and isinstance(delta.get("name"), str):
        return str(delta["name"])
    flow = store.kind(sandbox, "flows").get(run.get("flowId", ""))
    name = runs.flow_delta_column(flow) if flow is not None else None
    return name or "Create_Time"


def _source_records(store: Store, sandbox: str, run: Resource) -> list[tuple[int, dict[str, Any]]]:
    """``(rank, record)`` of the rows of the run's window, in delta-column order, as the source
    connection reads them; ``rank`` (a digest of the row) decides whether the row fails."""
    table, columns = _source(store, sandbox, run)
    if table is None or table not in sample_data.TABLES:
        return []
    delta = _delta_column(store, sandbox, run)
    window = run["plan"].get("windowMs")
    now = run["createdAt"] / 1000  # the clock of the run's planning: its count was made then
    start, end = (window[0] / 1000, window[1] / 1000) if window else (0.0, now)
    found: list[tuple[float, int, dict[str, Any]]] = []
    for row in sample_data.iter_rows(table, start - 2 * sample_data.DAY, end, now):
        value = row.create_time if delta == "Create_Time" else row.update_time
        if not (start <= value < end and value <= now):
            continue
        values = sample_data.row_values(row)
        record = {
            name: values[name]
            if name in values
            else f"{name.lower()}-{_digest(table, row.day, row.index, name):016x}"
            for name in columns or list(values)
        }
        found.append((value, _digest(table, row.day, row.index), record))
    found.sort(key=lambda entry: entry[0])
    return [(rank, record) for _, rank, record in found]


def failed_records(store: Store, sandbox: str, run: Resource, failed: int) -> list[FailedRecord]:
    """The ``failed`` rows of a run's batch, grouped in their error files (conversion files first)."""
    candidates = _source_records(store, sandbox, run)
    # which rows fail is a property of the row (its rank), so the same bad rows fail in every run
    # reading them; they are then listed in the order the source has them
    chosen = sorted(sorted(range(len(candidates)), key=lambda index: candidates[index][0])[:failed])
    picked = [candidates[index] for index in chosen]
    while len(picked) < failed:  # a streaming run, or a source the sample data lacks
        index = len(picked)
        picked.append((_digest(run["id"], index), {"_id": f"{run['id']}-{index}"}))
    grouped: dict[str, list[dict[str, Any]]] = {prefix: [] for prefix, _, _ in ERROR_KINDS}
    for rank, record in picked:
        grouped[ERROR_KINDS[0][0] if rank % 5 >= 2 else ERROR_KINDS[1][0]].append(record)
    found: list[FailedRecord] = []
    for prefix, code, message in ERROR_KINDS:
        rows = grouped[prefix]
        for start in range(0, len(rows), ROWS_PER_FILE):
            name = f"{prefix}_{start // ROWS_PER_FILE}.json"
            for record in rows[start : start + ROWS_PER_FILE]:
                found.append(FailedRecord(name, _error_line(record, name, code, message)))
    return found


def _error_line(record: dict[str, Any], name: str, code: str, message: str) -> dict[str, Any]:
    if code == "1401":
        # unquoted keys, like the document's {missingQuotes: "v1"}: the row cannot be parsed
        corrupt = "{" + ", ".join(f"{key}: {json.dumps(value)}" for key, value in record.items()) + "}"
        text = message
    else:
        names = list(record)
        field = names[1] if len(names) > 1 else names[0]
        corrupt = json.dumps({**record, field: None})
        text = message.format(field=field)
    return {"_corrupt_record": corrupt, "_errors": [{"code": code, "message": text}], "_filename": name}


def _json_lines(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@dataclass
class BatchMeta:
    """A batch's meta directory: file path -> content (``None`` for a directory)."""

    batch_id: str
    files: dict[str, bytes]

    def entries(self, directory: str) -> list[tuple[str, int]]:
        """``(name, bytes)`` of what ``directory`` holds ("" is the root), a sub-directory's bytes summed."""
        prefix = f"{directory}/" if directory else ""
        sizes: dict[str, int] = {}
        for path, content in self.files.items():
            if path.startswith(prefix):
                top = path[len(prefix) :].split("/", 1)[0]
                sizes[top] = sizes.get(top, 0) + len(content)
        return list(sizes.items())

    def listing(self, call: Call, directory: str) -> Response:
        """``{data: [{name, length, _links.self.href}], _page: {limit, count}}`` of one directory; a
        ``limit`` (1..100, 100 when absent) and a ``start`` offset page it, ``_links.next`` names the rest."""
        query = call.request.query_params
        limit = int_param(query, "limit", MAX_LIMIT, 1, MAX_LIMIT, export_bad_request)
        start = int_param(query, "start", 0, 0, None, export_bad_request)
        entries = self.entries(directory)
        prefix = f"{directory}/" if directory else ""
        base = f"{call.base_url}{PREFIX}/batches/{quote(self.batch_id, safe='')}/meta"
        data = [
            {
                "name": name,
                "length": str(size),
                "_links": {"self": {"href": f"{base}?path={quote(prefix + name, safe='')}"}},
            }
            for name, size in entries[start : start + limit]
        ]
        body: dict[str, Any] = {"data": data, "_page": {"limit": limit, "count": len(data)}}
        if start + limit < len(entries):
            where = f"path={quote(directory, safe='')}&" if directory else ""
            body["_links"] = {"next": {"href": f"{base}?{where}start={start + limit}&limit={limit}"}}
        return json_response(body)


def batch_meta(store: Store, sandbox: str, batch_id: str) -> BatchMeta | None:
    """The meta directory of the batch a finished run wrote, or ``None`` (unknown, or expired)."""
    batch = batches.render_batch(store, sandbox, batch_id)
    run = _run_of_batch(store, sandbox, batch_id)
    if batch is None or run is None:
        return None
    if store.now_ms() > int(batch["completed"]) + RETENTION_SECONDS * 1000:
        return None
    table, _ = _source(store, sandbox, run)
    files: dict[str, bytes] = {f"input_files/{INPUT_FILE}": _json_lines([{"path": table or run["flowId"]}])}
    failed = int(batch["metrics"]["failedRecordCount"])
    codes = {error.get("code") for error in batch.get("errors") or []}
    if failed > 0 and NO_DIAGNOSTICS_CODE not in codes:
        records = failed_records(store, sandbox, run, failed)
        by_file: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_file.setdefault(record.file, []).append(record.line)
        for name, lines in by_file.items():
            files[f"row_errors/{name}"] = _json_lines(lines)
        sample = _json_lines([record.line for record in records[:SAMPLE_ROWS]])
        files[SAMPLE_FILES[0]] = sample
    return BatchMeta(batch_id, files)


def get_meta(call: Call) -> Response:
    """``GET /batches/{BATCH_ID}/meta[?path=...]``: a directory listing or one file (module docstring)."""
    runs.refresh_sandbox(call.store, call.sandbox)
    batch_id = call.param("id")
    raw_path = call.request.query_params.get("path")
    path = (raw_path or "").strip().strip("/")
    if path == SAMPLE_FILES[1]:
        path = SAMPLE_FILES[0]
    meta = batch_meta(call.store, call.sandbox, batch_id)
    if meta is None or (path and any(part in ("", ".", "..") for part in path.split("/"))):
        raise _not_found(batch_id, raw_path)
    if path in meta.files:
        return Response(meta.files[path], media_type="application/json")
    if not path or any(name.startswith(f"{path}/") for name in meta.files):
        return meta.listing(call, path)
    raise _not_found(batch_id, raw_path)


def export_routes(store: Store) -> list[Route]:
    """Data Access routes, wrapped with the gateway checks."""
    route = platform_routes(store, PREFIX, export_bad_request)
    return [route("/batches/{id}/meta", get_meta, "GET")]
