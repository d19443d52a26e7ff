"""AEP resources as the ensure operators see them: what kind a resource is, whether a found one is the
requested one, and which of several equal resources every task picks (:func:`winner`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_aep.exceptions import AEPError


class AEPResourceMismatchError(AEPError):
    """A resource with the requested name exists but is not the requested one (another spec,
    dataset, connection...), or ``if_exists="fail"`` was asked and it exists."""


@dataclass(frozen=True)
class ResourceKind:
    """What an ensure operator manages, declared once per resource type.

    :param what: the resource in words (``"dataflow"``), for messages and validation errors.
    :param service: ``flowservice``, ``catalog``, ``schemaregistry`` or ``conversion``.
    :param collection: the collection path, e.g. ``/flows``.
    :param name_field: the payload field that names the resource and is looked up (``name``, ``title``).
    :param id_field: the field of an AEP object holding its id (``id``; ``$id`` in Schema Registry).
    :param identity_fields: dotted fields that must be equal for a found resource to be the requested
        one (e.g. a target connection's ``params.dataSetId``); a difference fails the task.
    :param patchable: top-level fields ``if_exists="update"`` may change by JSON Patch; empty means
        AEP has no JSON Patch for this resource, and ``update`` is refused before any call.
    :param list_headers: headers of the look-up request (Schema Registry's ``Accept``).
    :param create_params: query parameters of the create request (Catalog's ``requestDataSource``).
    :param unique_names: AEP itself refuses a second resource with the same name (Schema Registry
        titles), so there is never anything to converge.
    :param deletable: AEP has a ``DELETE`` of the resource, so a task can remove the duplicate it
        created after losing a race; otherwise the duplicate stays, unused.
    """

    what: str
    service: str
    collection: str
    name_field: str = "name"
    id_field: str = "id"
    identity_fields: tuple[str, ...] = ()
    patchable: tuple[str, ...] = ()
    list_headers: Mapping[str, str] = field(default_factory=dict)
    create_params: Mapping[str, str] = field(default_factory=dict)
    unique_names: bool = False
    deletable: bool = True


#: Fields that hold an AEP object's creation time in epoch ms: Flow Service, Catalog, Data Prep.
CREATED_FIELDS = ("createdAt", "created", "createdDate")


def created_ms(item: Mapping[str, Any]) -> float:
    """When AEP created an object (epoch ms); objects without a creation time sort last."""
    for name in CREATED_FIELDS:
        value = item.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return float("inf")


def winner(items: Sequence[Mapping[str, Any]], id_field: str = "id") -> Mapping[str, Any]:
    """The one resource every task picks among duplicates: the oldest, then the smallest id."""
    return min(items, key=lambda item: (created_ms(item), str(item.get(id_field) or "")))


def dotted(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a JSON object (``params.dataSetId``), ``None`` if absent."""
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def is_name_taken(error: Any) -> bool:
    """Whether AEP refused a create because the name is taken (Schema Registry: a 400, not a 409)."""
    return str(error.code or "").upper().startswith("XDM-1521")


def normal(value: Any) -> Any:
    """A value as identity fields compare it: strings case-insensitively, lists in any order."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return sorted(normal(item) for item in value)
    return value
