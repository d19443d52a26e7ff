"""Helpers shared by Flow Service resources: lookups, etags, ``If-Match``, JSON Patch, secret masking,
and JSON Schema validation that accepts numbers sent as strings (as Adobe's own tutorials do)."""

from __future__ import annotations

import copy
import re
from typing import Any

from aep_emulator.errors import ApiError, flow_error, not_found
from aep_emulator.gateway import Call
from aep_emulator.state import Resource

MASK = "****"
# Names that hold credentials in the connection specs' auth params (clientSecret, password, apiKey,
# accessToken, connectionString, sasUri, sasToken...), and values shaped like a SAS URL or token.
_SECRET_NAME = re.compile(r"secret|password|token|key|connectionstring|sasuri|credential", re.IGNORECASE)
_SAS_VALUE = re.compile(r"(^|[?&])sig=", re.IGNORECASE)
PATCH_OPS = ("add", "replace", "remove")
READ_ONLY_PATHS = ("/id", "/etag", "/createdAt", "/createdBy", "/sandboxId", "/sandboxName", "/imsOrgId")
# Epoch times in seconds or milliseconds up to the end of year 9999. No Adobe document bounds them; the
# bound keeps an absurd number a 400 instead of a float overflow or a schedule that never comes due.
MAX_EPOCH = 253_402_300_799_999
# Schedule intervals up to a million periods (a million weeks is about 19,000 years): same reason.
MAX_INTERVAL = 1_000_000


def get_or_404(call: Call, kind: str, resource_id: str) -> Resource:
    """A stored resource of this call's sandbox, or Flow Service's ``1439-404``."""
    resource = call.table(kind).get(resource_id)
    if resource is None:
        raise not_found(kind, resource_id)
    return resource


def mask_secrets(value: Any, password_params: frozenset[str] = frozenset()) -> Any:
    """A copy with every credential replaced, at any depth: values under a secret-looking key or a
    key the connection spec's ``authSpec`` marks ``format: password``, and SAS-looking strings."""
    if isinstance(value, dict):
        return {
            key: (
                MASK
                if isinstance(item, (str, int)) and (_SECRET_NAME.search(key) or key in password_params)
                else mask_secrets(item, password_params)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item, password_params) for item in value]
    if isinstance(value, str) and _SAS_VALUE.search(value):
        return MASK
    return value


def password_params(auth_specs: list[dict[str, Any]], spec_name: str) -> frozenset[str]:
    """The auth params a connection spec marks ``format: password`` for the auth type ``spec_name``."""
    for auth_spec in auth_specs:
        if auth_spec.get("name") == spec_name:
            properties = (auth_spec.get("spec") or {}).get("properties") or {}
            return frozenset(
                name
                for name, schema in properties.items()
                if isinstance(schema, dict) and schema.get("format") == "password"
            )
    return frozenset()


def check_if_match(call: Call, resource: Resource, kind: str) -> None:
    """AEP's optimistic locking: no ``If-Match`` is ``1403-400``, a stale one ``1404-412``."""
    if_match = call.request.headers.get("if-match")
    if not if_match:
        raise flow_error("1403-400", "Bad request", "If-Match header is required for updates", kind)
    if if_match.strip() != resource["etag"]:
        raise flow_error(
            "1404-412",
            "Precondition failed",
            f"Version {if_match} does not match the current version {resource['etag']}",
            kind,
        )


def _pointer(path: str, kind: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise flow_error("1455-400", "Bad request", f"Invalid JSON Patch path: {path!r}", kind)
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def apply_json_patch(resource: Resource, operations: Any, kind: str) -> Resource:
    """Apply a JSON Patch (``add``/``replace``/``remove``, any letter case) to a copy of ``resource``."""
    if not isinstance(operations, list) or not operations:
        raise flow_error("1455-400", "Bad request", "The body must be a non-empty JSON Patch array", kind)
    patched = copy.deepcopy(resource)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise flow_error("1455-400", "Bad request", f"Invalid patch operation: {operation!r}", kind)
        op = operation["op"].lower()
        if op not in PATCH_OPS:
            raise flow_error(
                "1434-400", "Bad request", f"Patch operation {operation['op']} is not supported", kind
            )
        path = operation.get("path", "")
        if path in READ_ONLY_PATHS:
            raise flow_error("1455-400", "Bad request", f"{path} cannot be changed", kind)
        if op != "remove" and "value" not in operation:
            raise flow_error("1455-400", "Bad request", f"Patch operation {op} on {path} needs a value", kind)
        _apply_one(patched, _pointer(path, kind), op, operation.get("value"), kind)
    return patched


def _apply_one(document: Any, parts: list[str], op: str, value: Any, kind: str) -> None:
    parent = document
    for part in parts[:-1]:
        if isinstance(parent, dict) and part not in parent and op == "add":
            parent[part] = {}
        try:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise flow_error(
                "1455-400", "Bad request", f"Patch path /{'/'.join(parts)} does not exist", kind
            ) from exc
    last = parts[-1]
    try:
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, value)
            elif op == "replace":
                parent[index] = value
            else:
                del parent[index]
        elif isinstance(parent, dict):
            if op in ("replace", "remove") and last not in parent:
                raise KeyError(last)
            if op == "remove":
                del parent[last]
            else:
                parent[last] = value
        else:
            raise TypeError(type(parent).__name__)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise flow_error(
            "1455-400", "Bad request", f"Patch path /{'/'.join(parts)} does not exist", kind
        ) from exc


def coerce_to_schema(value: Any, schema: dict[str, Any]) -> Any:
    """Turn ``"30"`` into ``30`` where the schema wants an integer (and ``0`` into ``"0"`` for strings).

    Adobe's tutorials send schedule numbers as strings and ``mappingVersion`` as either type, and the
    service accepts both; validation then runs on the coerced value.
    """
    wanted = schema.get("type")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {
            key: coerce_to_schema(item, properties[key]) if key in properties else item
            for key, item in value.items()
        }
    if wanted in ("integer", "number") and isinstance(value, str):
        try:
            return int(value) if wanted == "integer" else float(value)
        except ValueError:
            return value
    if wanted == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if wanted == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def validate_against(value: Any, schema: dict[str, Any], what: str, kind: str) -> Any:
    """Coerce then validate ``value`` against a flow spec's own JSON Schema; 400 with the reason."""
    import jsonschema  # type: ignore[import-untyped]

    coerced = coerce_to_schema(value, schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(coerced), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        location = "/".join(str(part) for part in first.absolute_path) or "(root)"
        raise flow_error("1400-400", "Bad request", f"Invalid {what} at {location}: {first.message}", kind)
    return coerced


def bad_request(message: str, kind: str) -> ApiError:
    """Flow Service's generic 400 for invalid input."""
    return flow_error("1400-400", "Bad request", message, kind)


def check_range(value: Any, low: int, high: int, what: str, kind: str) -> None:
    """Flow Service's 400 unless the number ``value`` lies in ``[low, high]``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise bad_request(f"{what} must be a number from {low} to {high}, got {value!r}", kind)
