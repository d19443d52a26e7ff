"""Failed-row diagnostics: the rows a batch dropped, read from AEP's Data Access API.

A run (and its Catalog batch) can say ``success`` and still have dropped rows
(help/ingestion/quality/error-diagnostics.md). The rows themselves are in the batch's error
diagnostics, Data Access API (base ``/data/foundation/export``):

1. ``GET /batches/{BATCH_ID}/meta?path=row_errors`` lists the error files, ``{data: [{name, length,
   _links.self.href}], _page, _links.next?}``;
2. each file, ``GET /batches/{BATCH_ID}/meta?path=row_errors/<name>`` (the ``path`` of its ``href``),
   holds one failed row a line: ``{_corrupt_record, _errors: [{code, message}], _filename}``.

A file's ``href`` is followed by sending its ``path`` query to this batch's meta endpoint on the
connection's gateway, never to the host the ``href`` names (Adobe writes ``platform.adobe.io:443``;
a token never travels to another host).

"The diagnostics will be retained within Platform for up to 30 days": a ``404`` from the meta
endpoint is told apart by asking Catalog about the batch (``GET /batches/{id}``): no failed rows
(``metrics.failedRecordCount`` 0), diagnostics never enabled (``INGEST-1211-400``, or the
``acp_enableErrorDiagnostics`` tag false), an unknown batch: no rows, with a note saying why; failed
rows that Data Access no longer has: they expired, :class:`AEPDiagnosticsExpiredError` ("diagnostics
are kept 30 days").

Secrets: a failed row is customer data. Every value under a name that looks secret (``password``,
``apiKey``, ``token``, ``clientSecret``... at any depth, the rule of
:mod:`airflow_provider_aep.models.secret_params`) or that looks like a shared access signature is
registered with Airflow's secret masker (``mask_secret``) and replaced by ``***`` in what this module
returns, in the row, its error messages and everywhere else in it. A ``_corrupt_record`` that is not
JSON (a row AEP could not parse) is searched for ``name: value`` and ``name=value`` pairs the same way.
Nothing here logs a row's content.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from airflow_provider_aep.exceptions import AEPError, AEPNotFoundError
from airflow_provider_aep.models.secret_params import REDACTED, is_secret_name, looks_like_sas_token

if TYPE_CHECKING:
    from airflow_provider_aep.hooks.aep import AEPHook

log = logging.getLogger(__name__)

#: help/ingestion/quality/error-diagnostics.md: diagnostics are "retained within Platform for up to 30 days".
RETENTION_DAYS = 30
DATA_ACCESS = "export"
#: Catalog error code of a batch that dropped rows without error diagnostics (error-diagnostics.md).
NO_DIAGNOSTICS_CODE = "INGEST-1211-400"
#: Pages of one listing followed at most (100 files a page, Data Access's maximum).
MAX_LISTING_PAGES = 100
#: Characters of a row's record shown by ``str(row)`` (a log line, not the data).
SHOWN_RECORD_CHARS = 300
#: A secret at least this long is also scrubbed where it appears inside other text.
MIN_SCRUBBED_LENGTH = 4


class AEPDiagnosticsExpiredError(AEPError):
    """Catalog counts failed rows for a batch but Data Access no longer has its error diagnostics
    (they are kept 30 days after the batch completed)."""


@dataclass(frozen=True)
class FailedRow:
    """One row a batch dropped, secrets masked.

    :param batch_id: the Catalog batch.
    :param file: the error file it was read from (``conversion_errors_0.json``).
    :param codes: the ``_errors[].code`` values (``1401``, ``1555``...).
    :param messages: the ``_errors[].message`` values.
    :param record: the rejected input (``_corrupt_record``): an object when it is JSON, else the text;
        every secret replaced by ``***``.
    """

    batch_id: str
    file: str
    codes: tuple[str, ...]
    messages: tuple[str, ...]
    record: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The row as one JSON line of :class:`AEPGetFailedRowsOperator`'s output."""
        return {
            "batch_id": self.batch_id,
            "file": self.file,
            "codes": list(self.codes),
            "messages": list(self.messages),
            "record": self.record,
        }

    def __str__(self) -> str:
        record = self.record if isinstance(self.record, str) else json.dumps(self.record, default=str)
        if len(record) > SHOWN_RECORD_CHARS:
            record = record[: SHOWN_RECORD_CHARS - 3] + "..."
        errors = "; ".join(
            f"{code}: {message}" if message else code
            for code, message in zip(self.codes, self.messages, strict=False)
        )
        return f"batch {self.batch_id} ({self.file}) {errors or 'no error code'} | {record}"


@dataclass(frozen=True)
class BatchDiagnostics:
    """What one batch's error diagnostics gave.

    :param batch_id: the Catalog batch.
    :param rows: its failed rows read (at most the limit asked for).
    :param note: why there are no rows, when there are none to read (no failed rows, diagnostics
        not enabled, an unknown batch).
    :param known: ``False`` when Catalog does not know the batch.
    :param files: the error files Data Access listed.
    """

    batch_id: str
    rows: tuple[FailedRow, ...] = ()
    note: str | None = None
    known: bool = True
    files: tuple[str, ...] = ()


def failed_rows(hook: AEPHook, batch_ids: Iterable[str], limit: int) -> list[FailedRow]:
    """The first ``limit`` failed rows of the batches, in batch order, secrets masked.

    Safe to call after any run: a batch without failed rows, without error diagnostics, or unknown
    to Catalog gives no rows (the reason is logged). It raises :class:`AEPDiagnosticsExpiredError`
    when a batch's diagnostics expired (30 days), and the hook's
    :class:`~airflow_provider_aep.exceptions.AEPApiError` on any other API error.

    :param hook: the AEP hook (its connection and sandbox).
    :param batch_ids: Catalog batch ids (``FlowRunReport.batch_ids``); a single string is one id.
    :param limit: most rows returned, over all batches.
    """
    return [row for batch in read_diagnostics(hook, batch_ids, limit) for row in batch.rows]


def read_diagnostics(hook: AEPHook, batch_ids: Iterable[str], limit: int) -> list[BatchDiagnostics]:
    """:func:`failed_rows` batch by batch, with the note of each batch that had none; batches after
    the limit was reached are not read."""
    remaining = max(0, int(limit))
    found: list[BatchDiagnostics] = []
    for batch_id in _unique(batch_ids):
        if remaining <= 0:
            break
        batch = batch_diagnostics(hook, batch_id, remaining)
        remaining -= len(batch.rows)
        found.append(batch)
    return found


def batch_diagnostics(hook: AEPHook, batch_id: str, limit: int) -> BatchDiagnostics:
    """At most ``limit`` failed rows of one batch (see the module docstring)."""
    try:
        files = list(_error_files(hook, batch_id))
    except AEPNotFoundError:
        return _without_row_errors(hook, batch_id)
    rows: list[FailedRow] = []
    for name, path in files:
        if len(rows) >= limit:
            break
        try:
            body = hook.get(DATA_ACCESS, meta_path(batch_id), params={"path": path})
        except AEPNotFoundError:
            return _without_row_errors(hook, batch_id)
        for line in parse_lines(body):
            rows.append(read_row(batch_id, name, line))
            if len(rows) >= limit:
                break
    names = tuple(name for name, _ in files)
    note = None if files else f"Data Access lists no row error files for batch {batch_id}"
    log.info("Batch %s: %d failed row(s) read from %d error file(s)", batch_id, len(rows), len(files))
    return BatchDiagnostics(batch_id, tuple(rows), note=note, files=names)


def meta_path(batch_id: str) -> str:
    """The Data Access meta endpoint of a batch (the id quoted: it is a path segment)."""
    return f"/batches/{quote(batch_id, safe='')}/meta"


def _unique(batch_ids: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for batch_id in [batch_ids] if isinstance(batch_ids, str) else batch_ids:
        text = str(batch_id).strip()
        if text and text not in seen:
            seen.add(text)
            yield text


def _error_files(hook: AEPHook, batch_id: str) -> Iterator[tuple[str, str]]:
    """``(name, path)`` of each error file the ``row_errors`` listing names, page after page."""
    params: dict[str, str] = {"path": "row_errors"}
    seen: set[tuple[tuple[str, str], ...]] = set()
    for _ in range(MAX_LISTING_PAGES):
        seen.add(tuple(sorted(params.items())))
        body = hook.get(DATA_ACCESS, meta_path(batch_id), params=params)
        data = body.get("data") if isinstance(body, Mapping) else None
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry["name"]:
                yield entry["name"], _file_path(batch_id, entry)
        following = _next_params(body, batch_id)
        if following is None or tuple(sorted(following.items())) in seen:
            return
        params = following


def _href(entry: Mapping[str, Any], *keys: str) -> str | None:
    value: Any = entry
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) and value else None


def _same_meta(href: str, batch_id: str) -> dict[str, str] | None:
    """The query of ``href`` when it points at this batch's meta endpoint, else ``None``."""
    parts = urlsplit(href)
    if not unquote(parts.path).rstrip("/").endswith(f"/batches/{batch_id}/meta"):
        return None
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def _file_path(batch_id: str, entry: Mapping[str, Any]) -> str:
    """The ``path`` to ask for one error file: its ``href``'s (followed on our gateway), else the
    documented ``row_errors/<name>``."""
    href = _href(entry, "_links", "self", "href")
    query = _same_meta(href, batch_id) if href else None
    path = (query or {}).get("path")
    return path if path else f"row_errors/{entry['name']}"


def _next_params(body: Any, batch_id: str) -> dict[str, str] | None:
    href = _href(body, "_links", "next", "href") if isinstance(body, Mapping) else None
    query = _same_meta(href, batch_id) if href else None
    if not query:
        return None
    query.setdefault("path", "row_errors")
    return query


def _without_row_errors(hook: AEPHook, batch_id: str) -> BatchDiagnostics:
    """Why the meta endpoint answered 404, from what Catalog says of the batch."""
    try:
        body = hook.get("catalog", f"/batches/{quote(batch_id, safe='')}")
    except AEPNotFoundError:
        note = f"Batch {batch_id} is not in Catalog (unknown, or not written yet): no failed rows to read"
        log.warning("%s", note)
        return BatchDiagnostics(batch_id, note=note, known=False)
    batch = _catalog_batch(body, batch_id)
    metrics = batch.get("metrics") if isinstance(batch.get("metrics"), Mapping) else {}
    failed = metrics.get("failedRecordCount") if isinstance(metrics, Mapping) else None
    raw_errors = batch.get("errors")
    errors: list[Any] = raw_errors if isinstance(raw_errors, list) else []
    codes = {str(error.get("code")) for error in errors if isinstance(error, Mapping)}
    tags = batch.get("tags") if isinstance(batch.get("tags"), Mapping) else {}
    enabled = tags.get("acp_enableErrorDiagnostics") if isinstance(tags, Mapping) else None
    if not isinstance(failed, int) or isinstance(failed, bool) or failed <= 0:
        note = f"Batch {batch_id} has no failed rows (Catalog failedRecordCount {failed}): no row errors"
        log.info("%s", note)
        return BatchDiagnostics(batch_id, note=note)
    if NO_DIAGNOSTICS_CODE in codes or enabled is False:
        note = (
            f"Batch {batch_id} dropped {failed} row(s) but error diagnostics were not enabled for it "
            f"({NO_DIAGNOSTICS_CODE}): AEP kept no failed rows; enable error diagnostics (partial "
            "ingestion) on the dataflow to keep them"
        )
        log.warning("%s", note)
        return BatchDiagnostics(batch_id, note=note)
    raise AEPDiagnosticsExpiredError(_expired_message(batch_id, failed, batch.get("completed")))


def _catalog_batch(body: Any, batch_id: str) -> Mapping[str, Any]:
    """The batch object of Catalog's answer, keyed by id (``{BATCH_ID: batch}``) or bare."""
    if not isinstance(body, Mapping):
        return {}
    keyed = body.get(batch_id)
    if isinstance(keyed, Mapping):
        return keyed
    if "metrics" in body or "status" in body:
        return body
    values = [value for value in body.values() if isinstance(value, Mapping)]
    return values[0] if len(values) == 1 else {}


def _expired_message(batch_id: str, failed: int, completed: Any) -> str:
    when = ""
    if isinstance(completed, int | float) and not isinstance(completed, bool) and completed > 0:
        seconds = completed / 1000 if completed > 100_000_000_000 else completed
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
        age = (time.time() - seconds) / 86400
        when = f"; it completed {stamp}" + (f", {age:.0f} days ago" if age >= RETENTION_DAYS else "")
    return (
        f"Batch {batch_id} dropped {failed} row(s) but Data Access no longer has its row errors: "
        f"AEP's error diagnostics are kept {RETENTION_DAYS} days after a batch completes{when} "
        "(help/ingestion/quality/error-diagnostics.md). Read failed rows within 30 days, e.g. with "
        "AEPGetFailedRowsOperator right after the run."
    )


# -- reading and masking one error file ------------------------------------------------------


def parse_lines(body: Any) -> list[dict[str, Any]]:
    """The rows of an error file, whatever the hook made of it: a single-line file is one JSON object,
    several lines are text (JSON Lines, or objects printed over several lines); what is not JSON is
    skipped (counted in the log, never shown)."""
    if isinstance(body, Mapping):
        return [dict(body)]
    if isinstance(body, list):
        return [dict(item) for item in body if isinstance(item, Mapping)]
    if not isinstance(body, str):
        return []
    decoder = json.JSONDecoder()
    rows: list[dict[str, Any]] = []
    skipped = 0
    position, end = 0, len(body)
    while position < end:
        while position < end and body[position].isspace():
            position += 1
        if position >= end:
            break
        try:
            value, position = decoder.raw_decode(body, position)
        except ValueError:
            skipped += 1
            newline = body.find("\n", position)
            position = end if newline < 0 else newline + 1
            continue
        if isinstance(value, Mapping):
            rows.append(dict(value))
    if skipped:
        log.warning("Skipped %d part(s) of an error file that were not JSON", skipped)
    return rows


def read_row(batch_id: str, file: str, line: Mapping[str, Any]) -> FailedRow:
    """One error file line as a :class:`FailedRow`, secrets masked (module docstring)."""
    secrets: set[str] = set()
    raw = line.get("_corrupt_record")
    if raw is None:
        rest = {key: value for key, value in line.items() if key not in ("_errors", "_filename")}
        record: Any = _mask_value(rest, secrets) if rest else None
    elif isinstance(raw, str):
        record = _mask_text(raw, secrets)
    else:
        record = _mask_value(raw, secrets)
    codes: list[str] = []
    messages: list[str] = []
    errors = line.get("_errors")
    for error in errors if isinstance(errors, list) else [errors] if isinstance(errors, Mapping) else []:
        if isinstance(error, Mapping):
            codes.append(str(error.get("code", "")))
            message = error.get("message")
            messages.append(_mask_text(str(message), secrets) if message is not None else "")
    _register(secrets)
    return FailedRow(
        batch_id=batch_id,
        file=file,
        codes=tuple(codes),
        messages=tuple(_scrub(message, secrets) for message in messages),
        record=_scrub(record, secrets),
    )


def _mask_text(text: str, secrets: set[str]) -> Any:
    """A ``_corrupt_record``: a JSON object or array is masked as data; other text pair by pair."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(stripped)
        except ValueError:
            pass
        else:
            return _mask_value(value, secrets)
    masked = _PAIR.sub(lambda match: _mask_pair(match, secrets), text)
    if looks_like_sas_token(text):  # a shared access signature: its ``sig`` is now known too
        secrets.add(text)
        return REDACTED
    return masked


# ``name: value`` / ``name=value`` / ``"name": "value"`` in text that is not JSON (AEP's own example of
# an unparsable row is ``{missingQuotes: "v1"}``); the value ends at a separator unless it is quoted.
_PAIR = re.compile(
    r"""(?P<key>["']?(?P<name>[A-Za-z_$][\w$.-]*)["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}\])]+)"""
)


def _mask_pair(match: re.Match[str], secrets: set[str]) -> str:
    name, value = match.group("name"), match.group("value")
    quoted = value[:1] in ('"', "'") and len(value) >= 2
    inner = value[1:-1] if quoted else value
    if not (is_secret_name(name) or name.lower() == "sig" or looks_like_sas_token(inner)):
        return match.group(0)
    if quoted and value[0] == '"':
        with contextlib.suppress(ValueError):
            inner = str(json.loads(value))
    if inner:
        secrets.add(inner)
    shown = f"{value[0]}{REDACTED}{value[0]}" if quoted else REDACTED
    return match.group("key") + shown


def _mask_value(value: Any, secrets: set[str], name: str = "") -> Any:
    """``value`` with every value under a secret-looking name (and every SAS-looking string) masked."""
    if name and is_secret_name(name):
        leaves = list(_leaves(value))
        if not leaves:
            return value
        secrets.update(leaves)
        return REDACTED
    if isinstance(value, Mapping):
        return {str(key): _mask_value(item, secrets, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_value(item, secrets) for item in value]
    if isinstance(value, str) and looks_like_sas_token(value):
        _PAIR.sub(lambda match: _mask_pair(match, secrets), value)  # its ``sig``, quoted elsewhere
        secrets.add(value)
        return REDACTED
    return value


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool) and str(value) != "":
        yield str(value)


def _scrub(value: Any, secrets: set[str]) -> Any:
    """Replace every secret found in the row wherever else it appears in it (a message quoting it)."""
    long_enough = sorted((secret for secret in secrets if len(secret) >= MIN_SCRUBBED_LENGTH), key=len)
    if not long_enough:
        return value
    if isinstance(value, str):
        for secret in reversed(long_enough):
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value


def _register(secrets: set[str]) -> None:
    """Give every secret of the row to Airflow's secret masker (the task's and its supervisor's)."""
    if not secrets:
        return
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        mask_secret(secret)
