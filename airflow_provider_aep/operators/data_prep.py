"""Data Prep operators: ensure and delete a mapping set.

Mapping sets have no name AEP can look up, so a mapping set is identified by its content: a re-run
reuses an existing mapping set whose target schema and mappings (source -> destination, identity
flag, in any order) equal the requested ones, whichever of the two documented shapes (legacy
``xdmSchema``/``sourceAttribute``/``destinationXdmPath`` or current ``outputSchema``/``source``/
``destination``) either was written in. Another mapping for the same schema is a new mapping set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators.arguments import check_list, json_list
from airflow_provider_aep.operators.base import AEPEnsureResourceOperator
from airflow_provider_aep.operators.resources import ResourceKind, dotted

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"

MappingShape = Literal["auto", "legacy", "current"]
#: What ``mappings`` holds, for errors.
MAPPINGS = "a list of mappings"


def mapping_set_signature(mapping_set: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str, bool], ...]]:
    """What makes two mapping sets the same: the target schema and the set of mappings."""
    schema = mapping_set.get("xdmSchema") or dotted(mapping_set, "outputSchema.schemaRef.id") or ""
    pairs = []
    for mapping in mapping_set.get("mappings") or ():
        if isinstance(mapping, Mapping):
            source = mapping.get("source", mapping.get("sourceAttribute"))
            destination = mapping.get("destination", mapping.get("destinationXdmPath"))
            pairs.append((str(source), str(destination), bool(mapping.get("identity", False))))
    return str(schema), tuple(sorted(pairs))


class AEPCreateMappingSetOperator(AEPEnsureResourceOperator):
    """Ensure a mapping set from source fields to a target XDM schema: ``POST /mappingSets``; returns its id.

    Re-runs reuse a mapping set with the same schema and mappings (see the module docstring).

    XCom: return value = mapping set id; ``mapping_version``; ``created``.

    :param schema_id: the ``$id`` of the target XDM schema (templated).
    :param mappings: the mappings, legacy ``{sourceAttribute, destinationXdmPath, identity?, version?}``
        or current ``{sourceType, source, destination}`` (templated: a list, or a string rendering one,
        e.g. ``"{{ params.mappings }}"`` without ``render_template_as_native_obj``).
    :param shape: ``auto`` (from the mappings' keys), ``legacy`` or ``current``.
    :param xdm_version: legacy shape: ``xdmVersion``, ``1.0``.
    :param schema_content_type: current shape: the schema content type.
    """

    # Adobe documents no DELETE of a mapping set: a duplicate made in a create race stays, unused.
    kind = ResourceKind(what="mapping set", service="conversion", collection="/mappingSets", deletable=False)
    template_fields: Sequence[str] = (*AEPEnsureResourceOperator.template_fields, "schema_id", "mappings")
    template_fields_renderers = {"mappings": "json"}

    def __init__(
        self,
        *,
        schema_id: IdArg,
        mappings: Sequence[Mapping[str, Any]] | str,
        shape: MappingShape = "auto",
        xdm_version: str = "1.0",
        schema_content_type: str = XED_FULL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if shape not in ("auto", "legacy", "current"):
            raise AEPConfigError(f"shape: must be auto, legacy or current, got {shape!r}")
        check_list(mappings, "mappings", MAPPINGS)
        self.schema_id = schema_id
        self.mappings = mappings
        self.shape = shape
        self.xdm_version = xdm_version
        self.schema_content_type = schema_content_type

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.mappings import MappingSet
        from airflow_provider_aep.models.validation import validate_request

        given = json_list(self.mappings, "mappings", MAPPINGS, allow_none=False) or []
        mappings = [dict(mapping) if isinstance(mapping, Mapping) else mapping for mapping in given]
        shape = self.shape
        if shape == "auto":
            legacy = any(isinstance(m, Mapping) and "sourceAttribute" in m for m in mappings)
            shape = "legacy" if legacy else "current"
        body: dict[str, Any] = (
            {"xdmSchema": self.schema_id, "xdmVersion": self.xdm_version, "mappings": mappings}
            if shape == "legacy"
            else {
                "outputSchema": {
                    "schemaRef": {"id": self.schema_id, "contentType": self.schema_content_type}
                },
                "mappings": mappings,
            }
        )
        return validate_request(MappingSet, body, "mapping set").to_payload()

    def describe(self, payload: Mapping[str, Any]) -> str:
        schema, pairs = mapping_set_signature(payload)
        return f"mapping set of {len(pairs)} mapping(s) to {schema}"

    def candidates(self, payload: Mapping[str, Any], *, thorough: bool) -> Iterator[dict[str, Any]]:
        # Mapping sets are matched by content: every one is read, page after page as Data Prep serves
        # them. A list request must send start and limit (help/data-prep/api/mapping-set.md).
        yield from self.hook.iter_items(self.kind.service, self.kind.collection, {"start": 0, "limit": 100})

    def matches(self, item: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
        return mapping_set_signature(item) == mapping_set_signature(payload)

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        return {"created": created, "mapping_version": item.get("version", 0)}
