"""Adobe's OpenAPI specs (``tests/adobe/specs``) as operations a recorded request is matched to.

Loading is lenient: the specs are plain YAML documents (Swagger 2 or OpenAPI 3.0, some partly invalid),
read for what a request check needs: each operation's path template, its declared query parameters
and where its request body schema sits in the document. Known defects of the specs are fixed in
:func:`_fix_spec_slips`, in one visible place.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.adobe.openapi_specs import SPECS

SPEC_FILES = (
    "flow-service.yaml",
    "catalog.yaml",
    "schema-registry.yaml",
    "data-prep.yaml",
    "streaming-ingestion.yaml",
)
METHODS = ("get", "put", "post", "delete", "patch")
JSON_CONTENT = "application/json"


@dataclass(frozen=True)
class Operation:
    """One method on one path of one spec.

    :param spec: the spec's file name.
    :param method: HTTP method, upper case.
    :param template: full path template, e.g. ``/data/foundation/flowservice/flows/{FLOW_ID}``.
    :param query: declared query parameters, name -> parameter object (``$ref`` resolved).
    :param bodies: request body schemas, content type -> JSON pointer into the spec document.
    :param body_required: whether the spec requires a body.
    """

    spec: str
    method: str
    template: str
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    body_required: bool = False

    @property
    def name(self) -> str:
        """``METHOD template``: how violations and the allow-list name the operation."""
        return f"{self.method} {self.template}"

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches the paths this operation serves (a ``{PARAM}`` is one non-empty segment)."""
        return template_pattern(self.template)

    @property
    def literal_segments(self) -> int:
        """How many segments are fixed text: the more, the better a match (``/tenant/schemas`` wins
        over ``/{CONTAINER_ID}/schemas``)."""
        return sum(1 for part in self.template.split("/") if part and not part.startswith("{"))


def template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression for a path template: each ``{NAME}`` stands for one segment."""
    parts = re.split(r"(\{[^}]+\})", template.rstrip("/"))
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(regex)


def _fix_spec_slips(name: str, document: dict[str, Any]) -> None:
    """Known defects of Adobe's specs, fixed in memory (the vendored files stay unchanged)."""
    if name == "flow-service.yaml":
        # PATCH /connections/{id}/ takes one PatchInstruction where the three other PATCH operations of
        # the spec take an array of them; Adobe's "Update accounts" page
        # (help/sources/tutorials/api/update.md) patches a connection with a JSON Patch array.
        body = document["paths"]["/connections/{BASE_CONNECTION_ID}/"]["patch"]["requestBody"]
        schema = body["content"]["application/json"]
        schema["schema"] = {"type": "array", "items": schema["schema"]}
        schemas = document["components"]["schemas"]
        # PatchInstruction.value is typed as an object with one "description" property; a JSON Patch
        # value is any JSON value (RFC 6902), and both update pages patch strings ("replace /name").
        schemas["PatchInstruction"]["properties"]["value"] = {}
        # AuthCreateBaseDTO lists the two params of one source (accessKeyId, secretAccessKey): a base
        # connection's auth.params are whatever its connection spec's authSpec defines.
        schemas["AuthCreateBaseDTO"] = {"type": "object"}
    if name == "streaming-ingestion.yaml":
        # messageBody.xdmEntity lists the fields of the example's person schema; its own description says
        # it holds a record of the schema named in schemaRef, whatever that schema is.
        entity = document["components"]["schemas"]["messageBody"]["properties"]["xdmEntity"]
        entity.pop("properties", None)
    if name == "schema-registry.yaml":
        # createSchema and createClass name the allOf item property "$ref " (trailing space); every
        # tutorial and the schema composition guide send "$ref".
        for definition in ("createSchema", "createClass"):
            item = document["definitions"][definition]["properties"]["allOf"]["items"]["properties"]
            item["$ref"] = item.pop("$ref ")


@functools.cache
def spec_document(name: str) -> dict[str, Any]:
    """The parsed spec ``name`` (a file name under ``tests/adobe/specs``), slips fixed."""
    document: dict[str, Any] = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    _fix_spec_slips(name, document)
    return document


def escape_pointer(segment: str) -> str:
    """One JSON Pointer segment (RFC 6901)."""
    return segment.replace("~", "~0").replace("/", "~1")


def resolve(document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local ``$ref`` s from ``node`` (found at ``pointer``): the target and its pointer."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        pointer = node["$ref"]
        node = document
        for segment in pointer[2:].split("/"):
            key = segment.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        seen += 1
        if seen > 50:
            raise ValueError(f"$ref loop at {pointer}")
    return node, pointer


def _base_path(document: dict[str, Any]) -> str:
    if "basePath" in document:  # Swagger 2
        return str(document["basePath"]).rstrip("/")
    server = str(document.get("servers", [{}])[0].get("url", ""))
    return urlsplit(server if "://" in server else "https:" + server).path.rstrip("/")


def _operation(
    name: str, document: dict[str, Any], base: str, path: str, method: str, item: dict[str, Any]
) -> Operation:
    operation = item[method]
    where = f"#/paths/{escape_pointer(path)}/{method}"
    query: dict[str, dict[str, Any]] = {}
    bodies: dict[str, str] = {}
    body_required = False
    declared = [
        (raw, f"#/paths/{escape_pointer(path)}/parameters/{index}")
        for index, raw in enumerate(item.get("parameters", []))
    ]
    declared += [
        (raw, f"{where}/parameters/{index}") for index, raw in enumerate(operation.get("parameters", []))
    ]
    for raw, pointer in declared:
        parameter, pointer = resolve(document, raw, pointer)
        if parameter.get("in") == "query":
            query[parameter["name"]] = parameter
        elif parameter.get("in") == "body":  # Swagger 2
            bodies[JSON_CONTENT] = f"{pointer}/schema"
            body_required = bool(parameter.get("required"))
    if "requestBody" in operation:  # OpenAPI 3
        request_body, pointer = resolve(document, operation["requestBody"], f"{where}/requestBody")
        for content_type in request_body.get("content", {}):
            bodies[content_type] = f"{pointer}/content/{escape_pointer(content_type)}/schema"
        body_required = bool(request_body.get("required"))
    template = (base + path).rstrip("/")  # the spec writes PATCH /connections/{id}/ with a slash
    return Operation(name, method.upper(), template, query, bodies, body_required)


@functools.cache
def load_operations() -> tuple[Operation, ...]:
    """Every operation of the five specs the provider talks to."""
    operations: list[Operation] = []
    for name in SPEC_FILES:
        document = spec_document(name)
        base = _base_path(document)
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item:
                    operations.append(_operation(name, document, base, path, method, item))
    return tuple(operations)
