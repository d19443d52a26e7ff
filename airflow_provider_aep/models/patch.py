"""JSON Patch bodies of ``PATCH /flows/{id}`` and the connection endpoints.

AEP's documents write ``add``/``replace``/``remove``, its spec enum is upper case and clients send
``Add``: any case is accepted and sent as given. Other operations (``move``, ``copy``, ``test``)
are refused here, before AEP answers ``1434-400``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, RootModel, field_validator, model_validator

from airflow_provider_aep.models._base import AEPModel, raise_rule_errors, rule_error

SUPPORTED_OPERATIONS = ("add", "replace", "remove")


class PatchOperation(AEPModel):
    """One JSON Patch operation.

    :ivar op: ``add``, ``replace`` or ``remove``, in any case.
    :ivar path: a JSON Pointer starting with ``/`` (``/name``, ``/scheduleParams/interval``).
    :ivar value: the new value; required for ``add`` and ``replace`` (``null`` is a value).
    """

    op: str
    path: str
    value: Any = None

    @field_validator("op")
    @classmethod
    def _supported_operation(cls, op: str) -> str:
        if op.lower() not in SUPPORTED_OPERATIONS:
            raise rule_error("must be add, replace or remove (any case); AEP refuses others with 1434-400")
        return op

    @field_validator("path")
    @classmethod
    def _json_pointer(cls, path: str) -> str:
        if not path.startswith("/"):
            raise rule_error("must be a JSON Pointer starting with '/', e.g. '/name'")
        return path

    @model_validator(mode="after")
    def _value_when_needed(self) -> PatchOperation:
        if self.op.lower() in ("add", "replace") and "value" not in self.model_fields_set:
            raise_rule_errors("PatchOperation", [(("value",), f"is required when op is '{self.op}'")])
        return self

    def to_payload(self) -> dict[str, Any]:
        """The operation as AEP expects it; an explicit ``null`` value is kept."""
        payload: dict[str, Any] = {"op": self.op, "path": self.path}
        if "value" in self.model_fields_set:
            payload["value"] = self.value
        return payload


class JsonPatch(RootModel[Annotated[list[PatchOperation], Field(min_length=1)]]):
    """A JSON Patch document: a non-empty list of :class:`PatchOperation`."""

    model_config = ConfigDict(hide_input_in_errors=True)

    def to_payload(self) -> list[dict[str, Any]]:
        """The list of operations, the body of the ``PATCH`` request."""
        return [operation.to_payload() for operation in self.root]
