"""The one rule that says which credentials are secret, for the models, the operators and their logs.

A string is secret when

* the name it sits under (at any depth) looks secret: ``clientSecret``, ``password``, ``apiKey``,
  ``sasToken``, ``sasUri``, ``connectionString``, ``credentials``, ``signature``...;
* the connection spec's ``authSpec`` marks that parameter ``"format": "password"`` (what AEP itself
  masks; the operators read the spec and pass these names as ``password_params``);
* or it looks like a shared access signature whatever its name: a query string with ``sig=``.

Secret strings are masked (Airflow's secret masker), redacted from errors, replaced by ``***`` in
what goes to XCom, hidden in models' ``repr``, and refused as literals in DAG code.

Importing this module is cheap (``re`` only): operators import it at DAG parse time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

#: What ``without_secrets`` puts in place of a secret.
REDACTED = "***"

# Words that make a parameter name secret wherever they appear in it (any case).
_SECRET_WORDS = re.compile(
    r"secret|password|passwd|token|key|credential|signature|connection_?string", re.IGNORECASE
)
# "sas" only as a word of the name (``sasUri``, ``azureSasUri``, ``SAS_URL``), not inside one (``hasAssets``).
_SAS_WORD = re.compile(r"(?<![A-Za-z])[sS][aA][sS]|S[aA][sS]")
# A shared access signature: a query string (or a URL with one) carrying ``sig=``.
_SAS_SIGNATURE = re.compile(r"(?:^|[?&])sig=", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether a parameter name (``clientSecret``, ``sasUri``, ``connectionString``...) holds a secret."""
    return bool(_SECRET_WORDS.search(name) or _SAS_WORD.search(name))


def looks_like_sas_token(value: object) -> bool:
    """Whether a value is a shared access signature or a URL carrying one (``...&sig=...``)."""
    return isinstance(value, str) and bool(_SAS_SIGNATURE.search(value.strip()))


def is_secret_param(name: str, value: object = None, password_params: Collection[str] = ()) -> bool:
    """Whether the parameter ``name`` holding ``value`` is secret (see the module docstring).

    :param password_params: the parameters the connection spec's ``authSpec`` marks ``password``.
    """
    return name in password_params or is_secret_name(name) or looks_like_sas_token(value)


def password_params(connection_spec: Mapping[str, Any], spec_name: str) -> frozenset[str]:
    """The parameters of the ``authSpec`` named ``spec_name`` that are marked ``"format": "password"``.

    :param connection_spec: a connection spec as ``GET /connectionSpecs/{id}`` answers it.
    :param spec_name: the ``auth.specName`` of the base connection.
    """
    auth_specs = connection_spec.get("authSpec")
    names: set[str] = set()
    for auth_spec in auth_specs if isinstance(auth_specs, list) else []:
        if isinstance(auth_spec, Mapping) and auth_spec.get("name") == spec_name:
            names.update(_password_properties(auth_spec.get("spec")))
    return frozenset(names)


def _password_properties(schema: Any) -> Iterator[str]:
    """Every property marked ``format: password`` in a JSON Schema, nested ones included."""
    if isinstance(schema, list):
        for item in schema:
            yield from _password_properties(item)
        return
    if not isinstance(schema, Mapping):
        return
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, property_schema in properties.items():
            if isinstance(property_schema, Mapping) and property_schema.get("format") == "password":
                yield str(name)
            yield from _password_properties(property_schema)
    for keyword in ("oneOf", "anyOf", "allOf", "items", "then", "else"):
        yield from _password_properties(schema.get(keyword))


def secret_strings(
    value: Any, password_params: Collection[str] = (), *, secret: bool = False
) -> Iterator[str]:
    """Every secret string in a JSON value (to mask it, or to redact it from an error).

    :param secret: whether ``value`` itself sits under a secret name.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from secret_strings(
                item, password_params, secret=secret or is_secret_param(str(key), None, password_params)
            )
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from secret_strings(item, password_params, secret=secret)
    elif isinstance(value, str) and value and (secret or looks_like_sas_token(value)):
        yield value


def without_secrets(value: Any, password_params: Collection[str] = (), *, secret: bool = False) -> Any:
    """A copy of a JSON value with every secret string replaced by ``***`` (for XCom and logs)."""
    if isinstance(value, Mapping):
        return {
            key: without_secrets(
                item, password_params, secret=secret or is_secret_param(str(key), None, password_params)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_secrets(item, password_params, secret=secret) for item in value]
    if isinstance(value, str) and (secret or looks_like_sas_token(value)):
        return REDACTED
    return value
