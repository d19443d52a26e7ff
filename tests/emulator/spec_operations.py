"""The operations of Adobe's vendored specs (``tests/adobe/specs``), read for spec-driven tests.

Both formats in use are read: OpenAPI 3 (Flow Service, Catalog, Data Prep, Streaming) and Swagger 2
(Schema Registry). Only what a test needs is kept: method, path template, query parameter names and the
JSON shape of the request body (its type, its top-level field types, its required fields).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPECS = Path(__file__).resolve().parents[1] / "adobe" / "specs"
METHODS = ("get", "post", "put", "patch", "delete")
JSON_TYPES = ("string", "object", "array", "integer", "number", "boolean")
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class BodyShape:
    """What a spec says about an operation's JSON request body.

    :param kind: the body's JSON type (``object`` or ``array``).
    :param fields: top-level field name -> JSON type, for an object body.
    :param required: the fields the spec requires.
    :param mandatory: whether the spec requires a body at all.
    """

    kind: str
    fields: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    mandatory: bool = False


@dataclass(frozen=True)
class Operation:
    """One operation of a spec, its path under the gateway host.

    :param spec: the spec file name, e.g. ``catalog.yaml``.
    :param method: upper-case HTTP method.
    :param template: path template under the host, e.g. ``/data/foundation/catalog/dataSets/{id}``.
    :param query: names of its query parameters.
    :param body: its JSON body, when the spec describes one.
    """

    spec: str
    method: str
    template: str
    query: tuple[str, ...]
    body: BodyShape | None

    @property
    def path_params(self) -> list[str]:
        """The names of the path parameters, in order."""
        return _PATH_PARAM.findall(self.template)

    def path(self, ids: Mapping[str, str], default: str) -> str:
        """The template with each parameter replaced by ``ids[name]`` (``default`` when absent)."""
        return _PATH_PARAM.sub(lambda match: ids.get(match.group(1), default), self.template)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@functools.cache
def _load(spec_file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPECS / spec_file).read_text(encoding="utf-8"))
    return loaded


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _json_type(spec: dict[str, Any], schema: Any) -> str | None:
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")
    if declared in JSON_TYPES:
        return str(declared)
    return "object" if "properties" in schema or "allOf" in schema else None


def _fields(spec: dict[str, Any], schema: Any) -> tuple[dict[str, str], list[str]]:
    schema = _resolve(spec, schema)
    fields: dict[str, str] = {}
    required: list[str] = list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        part_fields, part_required = _fields(spec, part)
        fields.update(part_fields)
        required += part_required
    for name, prop in (schema.get("properties") or {}).items():
        json_type = _json_type(spec, prop)
        if json_type is not None:
            fields[name] = json_type
    return fields, required


def _body(spec: dict[str, Any], operation: dict[str, Any], parameters: list[Any]) -> BodyShape | None:
    schema: Any = None
    mandatory = False
    request_body = _resolve(spec, operation.get("requestBody"))
    if isinstance(request_body, dict):  # OpenAPI 3
        content: dict[str, Any] = request_body.get("content") or {}
        media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
        schema, mandatory = media.get("schema"), bool(request_body.get("required"))
    for parameter in parameters:  # Swagger 2
        if parameter.get("in") == "body":
            schema, mandatory = parameter.get("schema"), bool(parameter.get("required"))
    kind = _json_type(spec, schema) if schema is not None else None
    if kind is None:
        return None
    fields, required = _fields(spec, schema) if kind == "object" else ({}, [])
    return BodyShape(kind, fields, tuple(dict.fromkeys(required)), mandatory)


def operations(spec_file: str, prefix: str) -> list[Operation]:
    """Every operation of ``spec_file``, with paths under ``prefix`` (the service's gateway path)."""
    spec = _load(spec_file)
    result: list[Operation] = []
    for path, item in spec["paths"].items():
        shared = [_resolve(spec, parameter) for parameter in item.get("parameters") or []]
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = shared + [
                _resolve(spec, parameter) for parameter in operation.get("parameters") or []
            ]
            query = tuple(dict.fromkeys(p["name"] for p in parameters if p.get("in") == "query"))
            body = _body(spec, operation, parameters)
            result.append(Operation(spec_file, method.upper(), prefix + path, query, body))
    return result
