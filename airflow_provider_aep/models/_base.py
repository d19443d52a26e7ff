"""Building blocks shared by every request model: the base classes, typed strings and rule errors.

Every model validates the fields it knows strictly and turns itself into the JSON body AEP expects
with :meth:`AEPModel.to_payload`. Secrets are :class:`pydantic.SecretStr` values that only
``to_payload`` reveals; ``repr()``, ``str()`` and validation errors show them masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    SerializationInfo,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

#: Serialization context key that makes secret fields serialize to their real value.
REVEAL_SECRETS = "reveal_secrets"

#: Type of the errors this package raises for AEP's documented rules (the message is the rule).
RULE_ERROR_TYPE = "aep_rule"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIGITS = re.compile(r"^[0-9]+$")
# An epoch in seconds stays below 10**11 until the year 5138; a bigger value is milliseconds.
_MAX_EPOCH_SECONDS = 10**11


class AEPModel(BaseModel):
    """Base of every request model: unknown fields are refused, inputs never appear in errors."""

    model_config = ConfigDict(
        extra="forbid",
        # Aliased fields (``$ref``, ``meta:class``) also accept their Python name.
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON body AEP expects: aliases (``$ref``, ``meta:xdmType``), no ``None``
        fields, and secrets revealed (this is the only place they are)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, context={REVEAL_SECRETS: True})


class AEPOpenModel(AEPModel):
    """A request model whose AEP object accepts more fields than we model.

    The modelled fields are validated strictly; extra fields are passed through unchanged.
    """

    model_config = ConfigDict(extra="allow")


def rule_error(rule: str) -> PydanticCustomError:
    """An error whose message is the rule the value broke (raised from a validator)."""
    return PydanticCustomError(RULE_ERROR_TYPE, rule)


def raise_rule_errors(title: str, problems: Iterable[tuple[tuple[str | int, ...], str]]) -> NoReturn:
    """Raise one validation error per ``(location, rule)``.

    Raised from a validator, pydantic prefixes each location with the path of the model being
    validated, so a rule on ``interval`` in ``scheduleParams`` reads ``scheduleParams.interval``.
    """
    details = [
        InitErrorDetails(type=rule_error(rule), loc=location, input=None) for location, rule in problems
    ]
    raise ValidationError.from_exception_data(title, details)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise rule_error("must not be empty")
    return value


def _uuid(value: str) -> str:
    if not _UUID.match(value):
        raise rule_error("must be a UUID (8-4-4-4-12 hexadecimal digits)")
    return value


def _xed_media_type(value: str) -> str:
    if not value.startswith("application/vnd.adobe.xed"):
        raise rule_error("must be an XDM media type such as 'application/vnd.adobe.xed-full+json;version=1'")
    return value


def _integer_or_digits(value: object) -> int | str:
    # The tutorials send numbers as strings ("1567411548", "30"); AEP accepts both and the
    # payload keeps whichever the user gave.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value):
        return value
    raise rule_error("must be an integer (a number or a string of digits)")


def _epoch_seconds(value: int | str) -> int | str:
    if as_int(value) >= _MAX_EPOCH_SECONDS:
        raise rule_error("must be epoch seconds (this looks like milliseconds)")
    return value


def _non_empty_secret(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise rule_error("must not be empty")
    return value


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    if isinstance(info.context, Mapping) and info.context.get(REVEAL_SECRETS):
        return value.get_secret_value()
    return str(value)


def as_int(value: int | str) -> int:
    """The integer behind an :data:`IntegerLike` value."""
    return value if isinstance(value, int) else int(value)


#: A string that is not empty or blank.
NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]
#: A UUID in its text form, kept as given (AEP spec, connection and flow ids).
UUIDStr = Annotated[str, AfterValidator(_uuid)]
#: An XDM content type such as ``application/vnd.adobe.xed-full+json;version=1``.
XedMediaType = Annotated[str, AfterValidator(_xed_media_type)]
#: An integer given as a number or as a string of digits; the given type is kept.
IntegerLike = Annotated[int | str, PlainValidator(_integer_or_digits)]
#: Unix epoch time in seconds, as a number or a string of digits.
EpochSeconds = Annotated[int | str, PlainValidator(_integer_or_digits), AfterValidator(_epoch_seconds)]
#: A secret: masked in ``repr``/``str``/``model_dump``, revealed by ``to_payload`` only.
Secret = Annotated[
    SecretStr,
    AfterValidator(_non_empty_secret),
    PlainSerializer(_serialize_secret, return_type=str),
]


class XdmSchemaReference(AEPModel):
    """A reference to an XDM schema by ``$id`` and content type (Catalog ``schemaRef``, Data Prep
    ``outputSchema.schemaRef``).

    :ivar id: the schema ``$id`` (``https://ns.adobe.com/<tenant>/schemas/<hex>``).
    :ivar contentType: the XDM media type, e.g. ``application/vnd.adobe.xed-full+json;version=1``.
    """

    id: NonEmptyStr
    contentType: XedMediaType
