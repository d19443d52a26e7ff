"""Schema Registry: tenant schemas (``POST /tenant/schemas``) and ad-hoc classes
(``POST /tenant/classes``) that describe raw source data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from airflow_provider_aep.models._base import AEPOpenModel, NonEmptyStr, raise_rule_errors

XDM_ADHOC_BEHAVIOUR = "https://ns.adobe.com/xdm/data/adhoc"
XDM_PROFILE_CLASS = "https://ns.adobe.com/xdm/context/profile"
XDM_EXPERIENCE_EVENT_CLASS = "https://ns.adobe.com/xdm/context/experienceevent"

# What surely is not a class: field groups (formerly mixins) and data types, by URL or altId,
# and Adobe's standard field groups named ``<class>-<topic>`` (``profile-person-details``).
_NOT_A_CLASS = re.compile(
    r"[/.](mixins|fieldgroups|datatypes)[/.]|^https://ns\.adobe\.com/xdm/context/[a-z]+-[a-z0-9-]+$"
)


def is_field_group_ref(ref: str) -> bool:
    """Whether a ``$ref`` surely names a field group or data type rather than a class.

    Unknown references count as possible classes: AEP has many industry classes.
    """
    return bool(_NOT_A_CLASS.search(ref))


def same_xdm_ref(first: str, second: str) -> bool:
    """Whether two references name the same XDM resource, each an ``$id`` or a ``meta:altId``.

    AEP derives the ``meta:altId`` from the ``$id``: ``https://ns.adobe.com/acme/classes/1a2b``
    is ``_acme.classes.1a2b``, ``https://ns.adobe.com/xdm/context/profile`` is ``_xdm.context.profile``.
    """
    return _alt_id(first) == _alt_id(second)


def _alt_id(ref: str) -> str:
    ref = ref.strip()
    prefix = "https://ns.adobe.com/"
    if ref.lower().startswith(prefix):
        ref = "_" + ref[len(prefix) :].strip("/").replace("/", ".")
    return ref.lower()


def schema_class_refs(schema: Mapping[str, Any]) -> list[str]:
    """The class a schema implements, as AEP answers it: ``meta:class``, else its ``allOf`` class refs."""
    meta_class = schema.get("meta:class")
    if isinstance(meta_class, str) and meta_class:
        return [meta_class]
    all_of = schema.get("allOf")
    refs = (
        [entry.get("$ref") for entry in all_of if isinstance(entry, Mapping)]
        if isinstance(all_of, list)
        else []
    )
    return [ref for ref in refs if isinstance(ref, str) and ref and not is_field_group_ref(ref)]


class AllOfRef(AEPOpenModel):
    """One ``allOf`` entry of a schema: the class or a field group it implements.

    :ivar $ref: the ``$id`` (or ``meta:altId``) of the class or field group.
    """

    ref: NonEmptyStr = Field(alias="$ref")


class TenantSchema(AEPOpenModel):
    """A tenant schema: ``POST /tenant/schemas``. Other ``meta:*`` fields are passed through.

    ``meta:class`` (optional): the class ``$id``; when given it must be one of the ``allOf`` refs.
    ``meta:xdmType`` (optional): ``object``.

    :ivar type: always ``object``.
    :ivar title: the schema title, unique in the sandbox across every resource kind.
    :ivar description: optional description.
    :ivar allOf: the class, then any field groups; at least one entry must be a class.
    """

    type: Literal["object"] = "object"
    title: NonEmptyStr
    description: str | None = None
    allOf: list[AllOfRef] = Field(min_length=1)
    meta_class: str | None = Field(default=None, alias="meta:class")
    meta_xdm_type: Literal["object"] | None = Field(default=None, alias="meta:xdmType")

    @model_validator(mode="after")
    def _implements_a_class(self) -> TenantSchema:
        refs = [entry.ref for entry in self.allOf]
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if all(is_field_group_ref(ref) for ref in refs):
            rule = "must reference a class (the profile class, a tenant class...), not only field groups"
            problems.append((("allOf",), rule))
        if self.meta_class is not None and self.meta_class not in refs:
            problems.append((("meta:class",), "must be one of the allOf references"))
        if problems:
            raise_rule_errors("TenantSchema", problems)
        return self


class ClassAllOfEntry(AEPOpenModel):
    """One ``allOf`` entry of a class: a behaviour reference or class-level fields.

    :ivar $ref: a behaviour (``https://ns.adobe.com/xdm/data/adhoc``) or field group.
    :ivar properties: fields the class adds (``_adhoc`` for an ad-hoc class).
    """

    ref: str | None = Field(default=None, alias="$ref")
    properties: dict[str, Any] | None = None


class AdhocClass(AEPOpenModel):
    """An ad-hoc class describing raw source data: ``POST /tenant/classes``.

    ``allOf`` holds the ad-hoc behaviour and ``properties._adhoc``, an object whose ``properties``
    are the source fields; AEP renames ``_adhoc`` to ``_<guid>``.

    :ivar type: always ``object``.
    :ivar title: the class title, unique in the sandbox.
    :ivar description: optional description.
    :ivar allOf: ``{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}`` and the ``_adhoc`` fields.
    """

    type: Literal["object"] = "object"
    title: NonEmptyStr
    description: str | None = None
    allOf: list[ClassAllOfEntry] = Field(min_length=1)

    @classmethod
    def for_fields(cls, title: str, fields: Mapping[str, str], description: str | None = None) -> AdhocClass:
        """The ad-hoc class of a source whose fields have the given XDM types.

        :param title: the class title.
        :param fields: source field name to XDM type (``string``, ``integer``, ``number``...).
        :param description: optional description.
        """
        adhoc = {
            "type": "object",
            "properties": {name: {"type": xdm_type} for name, xdm_type in fields.items()},
        }
        return cls.model_validate(
            {
                "title": title,
                "description": description,
                "allOf": [{"$ref": XDM_ADHOC_BEHAVIOUR}, {"properties": {"_adhoc": adhoc}}],
            }
        )

    @model_validator(mode="after")
    def _adhoc_shape(self) -> AdhocClass:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if not any(entry.ref == XDM_ADHOC_BEHAVIOUR for entry in self.allOf):
            problems.append(
                (("allOf",), f"must include the ad-hoc behaviour reference {XDM_ADHOC_BEHAVIOUR}")
            )
        holders = [
            i for i, entry in enumerate(self.allOf) if entry.properties and "_adhoc" in entry.properties
        ]
        if not holders:
            problems.append((("allOf",), "must include an entry with properties._adhoc (the source fields)"))
        for index in holders:
            problems.extend(_adhoc_field_problems(index, self.allOf[index].properties or {}))
        if problems:
            raise_rule_errors("AdhocClass", problems)
        return self


def _adhoc_field_problems(index: int, properties: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    where: tuple[str | int, ...] = ("allOf", index, "properties", "_adhoc")
    adhoc = properties["_adhoc"]
    if not isinstance(adhoc, Mapping) or adhoc.get("type") != "object":
        return [((*where, "type"), "must be 'object'")]
    fields = adhoc.get("properties")
    if not isinstance(fields, Mapping) or not fields:
        return [((*where, "properties"), "must describe at least one source field")]
    return [
        ((*where, "properties", str(name)), "must be an object with an XDM 'type'")
        for name, field in fields.items()
        if not isinstance(field, Mapping) or not isinstance(field.get("type"), str)
    ]
