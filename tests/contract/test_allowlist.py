"""The allow-list: every entry names a real operation and an Adobe document, and covers only itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.allowlist import AllowedDeviation, load_allowlist, split_allowed
from tests.contract.request_check import Violation, match_operation

ENTRIES = load_allowlist()
FLOW_PATCH = "PATCH /data/foundation/flowservice/flows/{FLOW_ID}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: f"{entry.operation} {entry.field}")
def test_each_entry_is_an_operation_of_the_specs_with_a_document(entry: AllowedDeviation) -> None:
    method, _, template = entry.operation.partition(" ")
    operation, _ = match_operation(method, template)
    assert operation is not None or entry.where in ("path", "method"), entry.operation
    assert entry.document
    assert entry.why
    assert entry.field or entry.where in ("path", "method")


def test_an_entry_covers_its_operation_field_and_place_only() -> None:
    entry = AllowedDeviation(
        FLOW_PATCH, "body", "[].op", "help/sources/tutorials/api/update-dataflows.md", ""
    )
    sent = Violation(FLOW_PATCH, "body", "[].op", "'replace' is not one of ['ADD', 'REPLACE', 'REMOVE']")
    assert entry.covers(sent)
    assert not entry.covers(Violation(FLOW_PATCH, "body", "[].path", "x"))
    assert not entry.covers(Violation(FLOW_PATCH, "query", "[].op", "x"))
    assert not entry.covers(Violation(FLOW_PATCH.replace("PATCH", "POST"), "body", "[].op", "x"))
    other = Violation("PATCH /data/foundation/flowservice/sourceConnections/{ID}", "body", "[].op", "x")
    assert not entry.covers(other)
    assert split_allowed([sent, other], [entry]) == ([other], [sent])


def test_a_whole_body_entry_covers_every_body_field_of_its_operation_only() -> None:
    inlet = "POST /collection/{CONNECTION_ID}"
    entry = AllowedDeviation(inlet, "body", "*", "seed tutorial 000", "webhook JSON")
    assert entry.covers(Violation("POST /collection/abc", "body", "header", "'flowId' is required"))
    assert entry.covers(Violation("POST /collection/abc", "body", "body.{id, email}", "not in the schema"))
    assert not entry.covers(Violation("POST /collection/abc", "query", "syncValidation", "x"))
    assert not entry.covers(Violation("POST /collection/batch/abc", "body", "messages", "x"))


def test_a_template_entry_covers_a_concrete_unknown_path() -> None:
    entry = AllowedDeviation("GET /data/foundation/x/{ID}", "path", "", "some page", "why")
    assert entry.covers(Violation("GET /data/foundation/x/123", "path", "", "no spec has this path"))
    assert not entry.covers(Violation("GET /data/foundation/x/1/2", "path", "", "no spec has this path"))


@pytest.mark.parametrize(
    "text",
    [
        "- {operation: POST /data/foundation/flowservice/runs, where: body, field: params.x}\n",
        "- {operation: POST /data/foundation/flowservice/runs, where: body, field: x, document: ''}\n",
        "- {operation: POST /data/foundation/flowservice/runs, where: header, field: x, document: d}\n",
        "- {operation: POST /data/foundation/flowservice/runs, where: query, document: d}\n",
        "- {operation: /runs, where: body, field: x, document: d}\n",
        "- {operation: POST /runs, where: body, field: x, document: d, because: x}\n",
    ],
)
def test_an_entry_without_a_document_or_with_a_bad_shape_is_refused(tmp_path: Path, text: str) -> None:
    allowlist = tmp_path / "allowlist.yaml"
    allowlist.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="allow-list entry 0"):
        load_allowlist(allowlist)
