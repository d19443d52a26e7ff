"""The one entry point operators use to validate a request body before any HTTP call.

``validate_request(Dataflow, body, "dataflow")`` returns the model or raises
:class:`~airflow_provider_aep.exceptions.AEPConfigError` with one line per problem, each naming
the dotted field path and the rule::

    Invalid dataflow: scheduleParams.interval: must be >= 15 when frequency is 'minute'

The message never contains an input value, so a secret cannot leak through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models._base import RULE_ERROR_TYPE
from airflow_provider_aep.models.secret_params import secret_strings

M = TypeVar("M", bound=BaseModel)

# Pydantic's own wording, rephrased as rules; a message that is not here is used as it is.
_RULES = {
    "missing": "is required",
    "extra_forbidden": "is not a field AEP accepts here",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}
_SHORTEST_SECRET = 3


def validate_request(model: type[M], data: Mapping[str, Any] | Sequence[Any] | M, what: str) -> M:
    """Validate a request body and return the model, or fail with a readable, secret-free error.

    :param model: the request model, e.g. ``Dataflow`` or ``BaseConnection``.
    :param data: the body as the user wrote it (JSON-like), or an already built model.
    :param what: what the body describes, for the message (``"dataflow"``, ``"base connection"``).
    :raises AEPConfigError: one line per problem: ``Invalid <what>: <field.path>: <rule>``.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        secrets = [] if isinstance(data, BaseModel) else list(secret_strings(data))
        message = describe_errors(error, what, secrets=secrets)
    # Raised outside the ``except`` so the pydantic error (which can hold inputs) is not chained.
    raise AEPConfigError(message)


def describe_errors(error: ValidationError, what: str, secrets: Sequence[str] = ()) -> str:
    """One line per problem of ``error``: ``Invalid <what>: <field.path>: <rule>``.

    :param error: the pydantic validation error.
    :param what: what was validated, for the message.
    :param secrets: values to mask should a message ever contain one.
    """
    lines = []
    for detail in error.errors(include_url=False, include_input=False):
        path = field_path(detail["loc"])
        rule = _rule(detail)
        lines.append(f"Invalid {what}: {path}: {rule}" if path else f"Invalid {what}: {rule}")
    message = "\n".join(dict.fromkeys(lines))
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _SHORTEST_SECRET:
            message = message.replace(secret, "**********")
    return message


def field_path(location: Sequence[int | str]) -> str:
    """``("transformations", 1, "params", "mappingId")`` -> ``transformations[1].params.mappingId``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _rule(detail: ErrorDetails) -> str:
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == RULE_ERROR_TYPE:
        return detail["msg"]
    if kind in _RULES:
        return _RULES[kind]
    if kind == "too_short":
        count = context.get("min_length", 1)
        return f"must contain at least {count} item{'s' if count != 1 else ''}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "literal_error":
        expected = str(context.get("expected", ""))
        return f"must be one of {expected}" if " or " in expected else f"must be {expected}"
    message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[:1].lower() + message[1:]
