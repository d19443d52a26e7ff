"""One reading of the arguments every operator shares: lists and dicts that may arrive as rendered
text, the delta column, ``deferrable``.

A template renders to a string unless the DAG sets ``render_template_as_native_obj=True``:
``mappings="{{ params.mappings }}"`` gives the text of a list, as JSON (``| tojson``) or as Python
writes it (``[{'source': 'a', 'identity': False}]``). Every list or dict argument therefore also takes
such a string and reads it back (JSON first, then a Python literal: never evaluated as code). Anything
else fails naming the argument and saying what arrived, before any HTTP call.

Imported when a DAG file is parsed: only the standard library at module level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_aep.exceptions import AEPConfigError

#: How much of a wrong value an error message shows.
SHOWN_CHARACTERS = 80


def shown(value: Any) -> str:
    """The ``repr`` of a value, cut to :data:`SHOWN_CHARACTERS`."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, str):
        return "a str"
    if isinstance(value, Sequence):
        return f"a {type(value).__name__}"
    return f"a {type(value).__name__} {shown(value)}"


def _parse_text(text: str) -> tuple[bool, Any]:
    """``(True, value)`` from JSON or a Python literal (as Jinja renders a list), else ``(False, None)``."""
    import json

    try:
        return True, json.loads(text)
    except ValueError:
        pass
    import ast

    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _from_text(text: str, name: str, expected: str, wanted: type) -> Any:
    parsed_ok, parsed = _parse_text(text)
    if not parsed_ok:
        raise AEPConfigError(f"{name}: must be {expected}, got a str that is not JSON: {shown(text)}")
    if not isinstance(parsed, wanted):
        raise AEPConfigError(f"{name}: must be {expected}, got a str holding {_kind(parsed)}: {shown(text)}")
    return parsed


def is_template(value: Any) -> bool:
    """A string Jinja has not rendered yet (checked again once it has)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def is_deferred(value: Any) -> bool:
    """An upstream task's ``.output`` (or another value resolved when the task runs)."""
    return hasattr(value, "resolve") and not isinstance(value, (str, Mapping, Sequence))


def json_list(
    value: Any, name: str, expected: str = "a list", *, allow_none: bool = True
) -> list[Any] | None:
    """``value`` as a list: a list or tuple, or a string holding one (JSON or a rendered Python list).

    :param name: the argument, for the error (``mappings``).
    :param expected: what the argument holds, for the error (``a list of mappings``).
    :raises AEPConfigError: ``mappings: must be a list of mappings, got a str that is not JSON: '...'``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        parsed: list[Any] = _from_text(value, name, expected, list)
        return parsed
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return list(value)
    raise AEPConfigError(f"{name}: must be {expected}, got {_kind(value)}")


def json_dict(
    value: Any, name: str, expected: str = "a dict", *, allow_none: bool = True
) -> dict[str, Any] | None:
    """``value`` as a dict: a mapping, or a string holding one (JSON or a rendered Python dict).

    :param name: the argument, for the error (``schedule_params``).
    :param expected: what the argument holds, for the error.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        parsed: dict[str, Any] = _from_text(value, name, expected, dict)
        return parsed
    if isinstance(value, Mapping):
        return dict(value)
    raise AEPConfigError(f"{name}: must be {expected}, got {_kind(value)}")


def check_list(value: Any, name: str, expected: str = "a list") -> None:
    """At construction: refuse what can never become a list (templates and ``.output`` are checked later)."""
    if value is None or is_template(value) or is_deferred(value):
        return
    json_list(value, name, expected)


def check_dict(value: Any, name: str, expected: str = "a dict") -> None:
    """At construction: refuse what can never become a dict (templates and ``.output`` are checked later)."""
    if value is None or is_template(value) or is_deferred(value):
        return
    json_dict(value, name, expected)


def ids(value: Any, name: str) -> list[str]:
    """One id or a list of ids: an id, a list of them, or a string holding a JSON/Python list."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        listed = json_list(value, name, "an id or a list of ids", allow_none=False) or []
        return [str(item) for item in listed]
    if isinstance(value, str):
        return [value]
    listed = json_list(value, name, "an id or a list of ids", allow_none=False) or []
    return [str(item) for item in listed]


#: What ``delta_column`` may hold, for errors and docs.
DELTA_COLUMN_FORMS = 'a column name, or {"name": ..., "dateFormat": ..., "timezone": ...}'


def delta_column(value: Any, name: str = "delta_column") -> dict[str, Any] | None:
    """The ``deltaColumn`` object from a column name, a dict, or a string holding a dict.

    ``"Update_Time"`` -> ``{"name": "Update_Time"}``; ``{"name": "Update_Time", "dateFormat": "YYYY-MM-DD",
    "timezone": "UTC"}`` stays as it is (a dataflow's ``Copy`` transformation takes the format and time
    zone; a run sends the name only). ``None`` or an empty string: no delta column.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return _delta_dict(json_dict(text, name, DELTA_COLUMN_FORMS), name)
        return {"name": text}
    if isinstance(value, Mapping):
        return _delta_dict(dict(value), name)
    raise AEPConfigError(f"{name}: must be {DELTA_COLUMN_FORMS}, got {_kind(value)}")


def _delta_dict(value: dict[str, Any] | None, name: str) -> dict[str, Any]:
    if not value or not isinstance(value.get("name"), str) or not value["name"].strip():
        raise AEPConfigError(f"{name}.name: must be the column name, got {shown((value or {}).get('name'))}")
    return value


def check_delta_column(value: Any, name: str = "delta_column") -> None:
    """At construction: refuse a delta column of the wrong type (templates are checked later)."""
    if value is None or is_deferred(value) or is_template(value):
        return
    if isinstance(value, Mapping):
        _delta_dict(dict(value), name)  # its values may still be templates
        return
    delta_column(value, name)


def positive_seconds(value: Any, name: str) -> float:
    """A number of seconds greater than zero, as a float; anything else fails naming ``name``.

    Poll intervals must be positive: ``0`` would send AEP one request after another (its APIs
    rate-limit), and a deferred wait schedules its polls on slots of the interval.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise AEPConfigError(f"{name}: must be a positive number of seconds, got {shown(value)}")
    return float(value)


def resolve_deferrable(deferrable: bool | None) -> bool:
    """``deferrable=None`` means ``[operators] default_deferrable`` (``False`` when unset), read now."""
    if deferrable is None:
        from airflow.sdk import conf

        return conf.getboolean("operators", "default_deferrable", fallback=False)
    if not isinstance(deferrable, bool):
        raise AEPConfigError(
            f"deferrable: must be True, False or None ([operators] default_deferrable), got {deferrable!r}"
        )
    return deferrable
