"""Check a JSON request body against a request schema of a spec: JSON Schema errors plus unknown fields.

Adobe's request schemas rarely declare ``additionalProperties``; here an object schema that lists
``properties`` (itself or through ``allOf``/``anyOf``/``oneOf``) is closed: a field it does not list is
a violation, unless the schema declares ``additionalProperties``. An object schema that lists no
properties at all (or an empty ``properties: {}``, as Catalog's ``observableSchema``) takes any field.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator

from tests.contract.openapi_operations import resolve, spec_document

_BRANCHES = ("allOf", "anyOf", "oneOf")
UNKNOWN_FIELD = "not in the request schema"


@dataclass(frozen=True)
class BodyProblem:
    """One thing wrong with a body: where (``params.deltaColumn``, ``[].op``) and what."""

    field: str
    message: str


def field_name(path: Iterable[str | int]) -> str:
    """``("transformations", 0, "params")`` -> ``transformations[].params`` (array indices dropped)."""
    name = ""
    for part in path:
        name += "[]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


@functools.cache
def _validator(spec: str, pointer: str) -> Draft4Validator:
    # Both Swagger 2 and OpenAPI 3.0 schemas are JSON Schema draft 4 dialects. The schema is the whole
    # spec document with a "$ref" to the body schema (draft 4 ignores a "$ref"'s siblings), so the
    # body schema's own "#/components/..." references resolve against the document.
    return Draft4Validator({**spec_document(spec), "$ref": pointer})


def body_problems(spec: str, pointer: str, body: Any) -> list[BodyProblem]:
    """Everything wrong with ``body`` for the schema at ``pointer`` in ``spec``."""
    problems = [
        BodyProblem(field_name(error.absolute_path), error.message)
        for error in _validator(spec, pointer).iter_errors(body)
    ]
    document = spec_document(spec)
    schema, _ = resolve(document, {"$ref": pointer}, pointer)
    problems += [BodyProblem(name, UNKNOWN_FIELD) for name in _unknown_fields(document, [schema], body, ())]
    return problems


def _expand(document: dict[str, Any], schemas: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Each schema with its ``$ref`` s followed and its ``allOf``/``anyOf``/``oneOf`` branches, flattened."""
    for raw in schemas:
        schema, _ = resolve(document, raw, "")
        if not isinstance(schema, dict):
            continue
        yield schema
        for keyword in _BRANCHES:
            yield from _expand(document, schema.get(keyword, []))


def _unknown_fields(
    document: dict[str, Any], schemas: list[Any], value: Any, path: tuple[str | int, ...]
) -> Iterator[str]:
    expanded = list(_expand(document, schemas))
    if isinstance(value, list):
        items = [schema["items"] for schema in expanded if isinstance(schema.get("items"), dict)]
        for index, item in enumerate(value):
            if items:
                yield from _unknown_fields(document, items, item, (*path, index))
        return
    if not isinstance(value, dict):
        return
    declared = [schema["properties"] for schema in expanded if isinstance(schema.get("properties"), dict)]
    declared = [properties for properties in declared if properties]  # "properties: {}" lists nothing
    extra = [schema["additionalProperties"] for schema in expanded if "additionalProperties" in schema]
    if not declared and not extra:
        return  # a free-form object
    for key, item in value.items():
        candidates = [properties[key] for properties in declared if key in properties]
        candidates += [schema for schema in extra if isinstance(schema, dict)]
        if candidates:
            yield from _unknown_fields(document, candidates, item, (*path, key))
        elif True not in extra:
            yield field_name((*path, key))
