"""Data Prep mapping sets: ``POST /data/foundation/conversion/mappingSets``.

Two request shapes are in use and both are accepted: the legacy one of the tutorials
(``xdmSchema``, ``xdmVersion``, ``mappings[{sourceAttribute, destinationXdmPath}]``) and the
current one of the spec (``outputSchema.schemaRef``, ``mappings[{sourceType, source, destination}]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import (
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from airflow_provider_aep.models._base import (
    AEPModel,
    AEPOpenModel,
    NonEmptyStr,
    XdmSchemaReference,
    raise_rule_errors,
    rule_error,
)

SourceType = Literal["ATTRIBUTE", "EXPRESSION", "STATIC", "text/x.schema-path", "text/x.aep-xl"]


class LegacyMapping(AEPOpenModel):
    """One mapping of the legacy shape.

    :ivar sourceAttribute: the source field.
    :ivar destinationXdmPath: the XDM path it fills (``person.name.firstName``).
    :ivar identity: whether the field is an identity.
    :ivar version: the mapping version, ``0``.
    :ivar identityGroup: optional identity group.
    :ivar namespaceCode: optional identity namespace.
    """

    sourceAttribute: NonEmptyStr
    destinationXdmPath: NonEmptyStr
    identity: StrictBool | None = None
    version: StrictInt | None = None
    identityGroup: str | None = None
    namespaceCode: str | None = None


class CurrentMapping(AEPOpenModel):
    """One mapping of the current shape.

    :ivar sourceType: ``ATTRIBUTE``, ``EXPRESSION`` or ``STATIC`` (older media-type names too).
    :ivar source: the source field, expression or constant.
    :ivar destination: the XDM path it fills.
    """

    sourceType: SourceType
    source: NonEmptyStr
    destination: NonEmptyStr


class OutputSchema(AEPModel):
    """The target schema of the current shape.

    :ivar schemaRef: the schema ``$id`` and XDM content type.
    """

    schemaRef: XdmSchemaReference


_LEGACY_MAPPINGS = TypeAdapter(list[LegacyMapping])
_CURRENT_MAPPINGS = TypeAdapter(list[CurrentMapping])


class MappingSet(AEPOpenModel):
    """A mapping set, in either shape; ``id`` and ``version`` of the tutorials are passed through.

    :ivar xdmSchema: legacy shape: the target schema ``$id``.
    :ivar xdmVersion: legacy shape: the XDM version, ``1.0``.
    :ivar outputSchema: current shape: ``{schemaRef: {id, contentType}}``.
    :ivar mappings: at least one mapping, of the same shape as the set.
    """

    xdmSchema: NonEmptyStr | None = None
    xdmVersion: str | None = None
    outputSchema: OutputSchema | None = None
    # Declared after the schema fields: its validator reads them to pick the mapping shape.
    mappings: list[LegacyMapping] | list[CurrentMapping]

    @field_validator("mappings", mode="wrap")
    @classmethod
    def _mappings_of_the_shape(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> list[LegacyMapping] | list[CurrentMapping]:
        if isinstance(value, Sequence) and not isinstance(value, str) and not value:
            raise rule_error("must contain at least one mapping")
        if info.data.get("outputSchema") is not None:
            return _CURRENT_MAPPINGS.validate_python(value)
        return _LEGACY_MAPPINGS.validate_python(value)

    @model_validator(mode="after")
    def _one_shape(self) -> MappingSet:
        has_legacy, has_current = self.xdmSchema is not None, self.outputSchema is not None
        if not has_legacy and not has_current:
            raise_rule_errors(
                "MappingSet", [((), "must have xdmSchema (legacy shape) or outputSchema (current shape)")]
            )
        if has_legacy and has_current:
            raise_rule_errors(
                "MappingSet", [(("outputSchema",), "must not be given together with xdmSchema")]
            )
        return self
