"""Flow Service dataflows and on-demand flow runs: ``POST /flows`` and ``POST /runs``.

``scheduleParams`` follows the flow spec's own JSON Schema (``CRMToAEP``): ``startTime`` and
``frequency`` are required; with ``once``, ``interval`` and ``backfill`` are forbidden; otherwise
``interval`` is required, ``>= 15`` for ``minute`` and ``>= 1`` for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StrictBool,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_serializer,
    model_validator,
)

from airflow_provider_aep.models._base import (
    AEPModel,
    EpochSeconds,
    IntegerLike,
    NonEmptyStr,
    UUIDStr,
    as_int,
    raise_rule_errors,
)
from airflow_provider_aep.models.connections import ConnectionSpecRef

Frequency = Literal["once", "minute", "hour", "day", "week"]

# The flow spec's minimum interval per frequency (``once`` takes none).
MINIMUM_INTERVAL: dict[str, int] = {"minute": 15, "hour": 1, "day": 1, "week": 1}


class ScheduleParams(AEPModel):
    """When AEP runs a batch dataflow; streaming dataflows have none.

    Numbers may be given as strings, as the tutorials do (``"1567411548"``, ``"30"``). ``interval`` is
    always sent as a string of digits: Flow Service's request schema (``ScheduleSpecDTO``) types it
    ``string`` and the tutorials send ``"30"`` (a flow spec's own JSON Schema says ``integer``; AEP
    takes the tutorials' strings, so the string is the reading every document accepts). ``startTime``
    and ``endTime`` keep the type given (the request schema says integer, the tutorials send strings).

    :ivar startTime: first run, Unix epoch seconds.
    :ivar frequency: ``once``, ``minute``, ``hour``, ``day`` or ``week``.
    :ivar interval: periods between runs; required unless ``once`` (``>= 15`` for ``minute``).
    :ivar backfill: whether the first run ingests the data already there; not with ``once``.
    :ivar endTime: optional last run, Unix epoch seconds (some flow specs accept it).
    """

    startTime: EpochSeconds
    frequency: Frequency
    interval: IntegerLike | None = None
    backfill: StrictBool | None = None
    endTime: EpochSeconds | None = None

    @field_serializer("interval")
    def _interval_as_string(self, interval: int | str | None) -> str | None:
        return None if interval is None else str(as_int(interval))

    @model_validator(mode="after")
    def _flow_spec_rules(self) -> ScheduleParams:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.frequency == "once":
            if self.interval is not None:
                problems.append((("interval",), "must not be set when frequency is 'once'"))
            if self.backfill is not None:
                problems.append((("backfill",), "must not be set when frequency is 'once'"))
        elif self.interval is None:
            problems.append((("interval",), f"is required when frequency is '{self.frequency}'"))
        else:
            minimum = MINIMUM_INTERVAL[self.frequency]
            if as_int(self.interval) < minimum:
                problems.append((("interval",), f"must be >= {minimum} when frequency is '{self.frequency}'"))
        if self.endTime is not None and as_int(self.endTime) <= as_int(self.startTime):
            problems.append((("endTime",), "must be after startTime"))
        if problems:
            raise_rule_errors("scheduleParams", problems)
        return self


class DeltaColumn(AEPModel):
    """The column that tells new rows from ingested ones (CRM and database sources).

    :ivar name: the column name.
    :ivar dateFormat: optional date format of the column.
    :ivar timezone: optional time zone of the column.
    """

    name: NonEmptyStr
    dateFormat: str | None = None
    timezone: str | None = None


class CopyParams(AEPModel):
    """Parameters of the ``Copy`` transformation.

    :ivar deltaColumn: the incremental column.
    """

    deltaColumn: DeltaColumn


class MappingParams(AEPModel):
    """Parameters of the ``Mapping`` transformation.

    :ivar mappingId: the Data Prep mapping set id.
    :ivar mappingVersion: the mapping set version, a number or a string (both are documented).
    """

    mappingId: NonEmptyStr
    mappingVersion: IntegerLike | None = None


class CopyTransformation(AEPModel):
    """The ``Copy`` transformation.

    :ivar name: ``Copy``.
    :ivar params: its ``deltaColumn``.
    """

    name: Literal["Copy"]
    params: CopyParams


class MappingTransformation(AEPModel):
    """The ``Mapping`` transformation.

    :ivar name: ``Mapping``.
    :ivar params: the mapping set id and version.
    """

    name: Literal["Mapping"]
    params: MappingParams


class GenericTransformation(AEPModel):
    """Any other transformation a flow spec declares: ``params`` is passed through.

    :ivar name: the transformation name from the flow spec.
    :ivar params: its parameters.
    """

    name: NonEmptyStr
    params: dict[str, Any] = Field(default_factory=dict)


TransformationModel = CopyTransformation | MappingTransformation | GenericTransformation
_TRANSFORMATIONS: dict[str, type[TransformationModel]] = {
    "Copy": CopyTransformation,
    "Mapping": MappingTransformation,
}


def _transformation_by_name(value: Any, handler: ValidatorFunctionWrapHandler) -> TransformationModel:
    name = value.get("name") if isinstance(value, Mapping) else None
    model = (
        _TRANSFORMATIONS.get(name, GenericTransformation) if isinstance(name, str) else GenericTransformation
    )
    return model.model_validate(value)


Transformation = Annotated[TransformationModel, WrapValidator(_transformation_by_name)]


class Dataflow(AEPModel):
    """A dataflow: ``POST /flows``.

    ``state`` is refused: AEP answers ``1410-400`` when it is sent on create (a new flow is
    enabled; disable it afterwards with the ``action`` endpoint).

    :ivar name: the dataflow name.
    :ivar description: optional description.
    :ivar flowSpec: the flow spec (``CRMToAEP`` ``14518937-...``, Shopify ``e77fde5a-...``).
    :ivar sourceConnectionIds: at least one source connection id.
    :ivar targetConnectionIds: at least one target connection id.
    :ivar transformations: ``Copy`` (``deltaColumn``) and ``Mapping`` (``mappingId``) steps.
    :ivar scheduleParams: the schedule of a batch dataflow.
    :ivar options: optional flow options (``partialIngestionPercent``, ``errorDiagnosticsEnabled``).
    """

    name: NonEmptyStr
    description: str | None = None
    flowSpec: ConnectionSpecRef
    sourceConnectionIds: list[UUIDStr] = Field(min_length=1)
    targetConnectionIds: list[UUIDStr] = Field(min_length=1)
    transformations: list[Transformation] | None = None
    scheduleParams: ScheduleParams | None = None
    options: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_state_on_create(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "state" in data:
            raise_rule_errors(
                "Dataflow",
                [(("state",), "must not be sent on create (AEP answers 1410-400); enable or disable later")],
            )
        return data


class FlowRunParams(AEPModel):
    """The window of an on-demand run, Unix epoch seconds (numbers or strings of digits).

    :ivar startTime: when the run starts.
    :ivar windowStartTime: start of the data window.
    :ivar windowEndTime: end of the data window, after its start.
    :ivar deltaColumn: optional incremental column.
    """

    startTime: EpochSeconds
    windowStartTime: EpochSeconds
    windowEndTime: EpochSeconds
    deltaColumn: DeltaColumn | None = None

    @model_validator(mode="after")
    def _window_is_forward(self) -> FlowRunParams:
        if as_int(self.windowEndTime) <= as_int(self.windowStartTime):
            raise_rule_errors("params", [(("windowEndTime",), "must be after windowStartTime")])
        return self


class FlowRunRequest(AEPModel):
    """An on-demand run of a batch dataflow scheduled ``once``: ``POST /runs``.

    :ivar flowId: the dataflow id.
    :ivar params: the run start and data window.
    """

    flowId: UUIDStr
    params: FlowRunParams
