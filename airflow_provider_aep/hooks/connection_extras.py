"""Checks of the ``aep`` Airflow connection's fields: each bad value fails naming its field.

Run when a hook first reads its connection, so a malformed connection fails before any HTTP call.
A message names the field and the rule, never the value (a misplaced secret must not be echoed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_aep.exceptions import AEPConfigError

# AEP sandbox names: letters (sent lower case), digits and hyphens, at most 256 characters.
_SANDBOX_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,255}$")


def extra_object(conn: Any) -> Mapping[str, Any]:
    """The connection's extra as a JSON object (``{}`` when empty); anything else fails."""
    raw = conn.extra
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise AEPConfigError(
                f"Airflow connection {conn.conn_id!r}: extra: must be a JSON object, and is not valid JSON"
            ) from None
    else:
        parsed = raw
    if not isinstance(parsed, Mapping):
        raise AEPConfigError(f"Airflow connection {conn.conn_id!r}: extra: must be a JSON object")
    return conn.extra_dejson or {}  # the same object, with its values registered with the masker


def extra_value(extra: Mapping[str, Any], name: str) -> Any:
    """Read an extra field the way Airflow stores it: plain, or with the legacy form prefix."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__aep__{name}")
    return None if value == "" else value


def checked_org_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AEPConfigError("extra org_id: must be a string, the IMS organization ID (...@AdobeOrg)")
    return value.strip()


def checked_sandbox(value: Any, field: str = "extra sandbox") -> str:
    """A sandbox name in the lower case AEP expects (``prod``, ``dev-2``)."""
    name = value.strip().lower() if isinstance(value, str) else None
    if name is None or not _SANDBOX_NAME.match(name):
        raise AEPConfigError(
            f"{field}: must be a sandbox name (letters, digits and hyphens, at most 256 characters)"
        )
    return name


def checked_scopes(value: Any) -> str:
    """Comma-separated OAuth scopes, given as one string or as a list of strings."""
    if isinstance(value, list) and value and all(isinstance(scope, str) and scope.strip() for scope in value):
        return ",".join(scope.strip() for scope in value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise AEPConfigError("extra scopes: must be a comma-separated string or a list of strings")


def checked_url(value: Any, field: str, default_scheme: str = "https") -> str:
    """An ``http(s)`` URL without a trailing slash; a bare host gets ``default_scheme``."""
    text = value.strip().rstrip("/") if isinstance(value, str) else ""
    if text and "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # an unreadable port
        valid = False
    if not valid or any(char.isspace() for char in text):
        raise AEPConfigError(f"{field}: must be an http(s) URL such as https://ims-na1.adobelogin.com")
    return text


def checked_number(
    value: Any, field: str, kind: type[int] | type[float], minimum: float, *, inclusive: bool = True
) -> Any:
    """A number (or a string of one) of ``kind``: at least ``minimum``, or above it."""
    number: float | None
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (not inclusive and number == minimum):
        noun = "an integer" if kind is int else "a number"
        raise AEPConfigError(f"extra {field}: must be {noun} {'>=' if inclusive else '>'} {minimum:g}")
    return number
