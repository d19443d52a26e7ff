"""Schema Registry operators: ensure an XDM schema or an ad-hoc class, delete a schema or class.

Schema Registry titles are unique in a sandbox across every resource kind (``XDM-1521-400``), so
the title is what a re-run looks up. Resources are addressed by their ``$id`` (URL-encoded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.links import AEPSchemaLink
from airflow_provider_aep.operators.arguments import check_dict, check_list, json_dict, json_list
from airflow_provider_aep.operators.base import AEPEnsureResourceOperator
from airflow_provider_aep.operators.deletion import AEPDeleteResourceOperator
from airflow_provider_aep.operators.resources import AEPResourceMismatchError, ResourceKind

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg

#: Lists answer ids, titles and versions only; a single resource needs a full XDM media type.
XED_ID = {"Accept": "application/vnd.adobe.xed-id+json"}
XED_FULL_ACCEPT = {"Accept": "application/vnd.adobe.xed+json; version=1"}
#: What ``field_group_ids`` and an ad-hoc class's ``fields`` hold, for errors.
FIELD_GROUPS = "a list of field group $id"
CLASS_FIELDS = "a dict of source field name -> XDM type"


class _AEPEnsureXdmOperator(AEPEnsureResourceOperator):
    """Shared by schemas and classes: look up by ``title``, id = ``$id``."""

    xcom_prefix = "schema"

    def created_id(self, answer: Any) -> str:
        from airflow_provider_aep.models.responses import schema_id

        found = schema_id(answer)
        if not found:
            return super().created_id(answer)
        return found

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        return {
            "created": created,
            f"{self.xcom_prefix}_id": resource_id,
            f"{self.xcom_prefix}_alt_id": item.get("meta:altId"),
            f"{self.xcom_prefix}_version": item.get("version"),
        }


class AEPCreateSchemaOperator(_AEPEnsureXdmOperator):
    """Ensure a tenant XDM schema: ``POST /tenant/schemas``; returns its ``$id``.

    The schema implements one class (``class_id``: a standard class such as
    ``https://ns.adobe.com/xdm/context/profile`` or an ad-hoc class's ``$id``) and any field groups.
    A schema found with the same title is reused only if it implements that class (its
    ``meta:class``, ``$id`` or ``meta:altId`` form); otherwise the task fails naming both classes.

    XCom: return value = schema ``$id``; ``schema_id``; ``schema_alt_id`` (``meta:altId``);
    ``schema_version``; ``created``. Extra link: the schema in AEP.

    :param title: the schema title, unique in the sandbox, looked up on re-runs (templated).
    :param class_id: the ``$id`` of the class it implements (templated).
    :param field_group_ids: ``$id`` of each field group it adds (templated; a list, or its JSON).
    :param description: description (templated); Schema Registry requires one, so the title is sent
        when none is given.
    :param extra_fields: other schema attributes (``meta:class``, ``meta:xdmType``...), passed
        through (templated; a dict, or its JSON).
    """

    kind = ResourceKind(
        what="schema",
        service="schemaregistry",
        collection="/tenant/schemas",
        name_field="title",
        id_field="$id",
        list_headers=XED_ID,
        unique_names=True,  # XDM-1521-400: titles are unique in a sandbox
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "title",
        "class_id",
        "field_group_ids",
        "description",
        "extra_fields",
    )
    template_fields_renderers = {"extra_fields": "json"}
    operator_extra_links = (AEPSchemaLink(),)

    def __init__(
        self,
        *,
        title: str,
        class_id: IdArg,
        field_group_ids: Sequence[str] | str = (),
        description: str | None = None,
        extra_fields: Mapping[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_list(field_group_ids, "field_group_ids", FIELD_GROUPS)
        check_dict(extra_fields, "extra_fields")
        self.title = title
        self.class_id = class_id
        self.field_group_ids = field_group_ids
        self.description = description
        self.extra_fields = extra_fields

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.schemas import TenantSchema
        from airflow_provider_aep.models.validation import validate_request

        field_group_ids = json_list(self.field_group_ids, "field_group_ids", FIELD_GROUPS) or []
        body = {
            **(json_dict(self.extra_fields, "extra_fields") or {}),
            "type": "object",
            "title": self.title,
            # Schema Registry's request schema requires a description: the title stands in for one
            "description": self.description or self.title,
            "allOf": [{"$ref": ref} for ref in (self.class_id, *field_group_ids)],
        }
        return validate_request(TenantSchema, body, "schema").to_payload()

    def check_identity(
        self, existing: Mapping[str, Any], payload: Mapping[str, Any], label: str, resource_id: str
    ) -> None:
        """A schema found by title is reused only if it implements the requested class."""
        from airflow_provider_aep.models.schemas import same_xdm_ref, schema_class_refs

        wanted = payload.get("meta:class") or payload["allOf"][0]["$ref"]
        if "meta:class" not in existing:  # a look-up answers ids and titles only: read the schema
            path = f"{self.kind.collection}/{quote(resource_id, safe='')}"
            existing = self.hook.get(self.kind.service, path, headers=XED_FULL_ACCEPT)
        found = schema_class_refs(existing) if isinstance(existing, Mapping) else []
        if not any(same_xdm_ref(wanted, ref) for ref in found):
            raise AEPResourceMismatchError(
                f"{label} already exists ({resource_id}) with class {' or '.join(found) or 'unknown'}, "
                f"not the requested class {wanted}; give this schema another title, or delete the "
                "existing one"
            )


class AEPCreateAdhocClassOperator(_AEPEnsureXdmOperator):
    """Ensure an ad-hoc XDM class describing raw source fields: ``POST /tenant/classes``; returns its ``$id``.

    AEP renames the ``_adhoc`` object to a ``_<guid>`` namespace. Create the ad-hoc schema from it
    with ``AEPCreateSchemaOperator(class_id=<this>.output, ...)``.

    XCom: return value = class ``$id``; ``class_id``; ``class_alt_id``; ``class_version``; ``created``.

    :param title: the class title, unique in the sandbox, looked up on re-runs (templated).
    :param fields: source field name -> XDM type (``"string"``) or a full XDM property (templated; a
        dict, or its JSON).
    :param description: description (templated); Schema Registry requires one, so the title is sent
        when none is given.
    """

    kind = ResourceKind(
        what="ad-hoc class",
        service="schemaregistry",
        collection="/tenant/classes",
        name_field="title",
        id_field="$id",
        list_headers=XED_ID,
        unique_names=True,  # XDM-1521-400: titles are unique in a sandbox
    )
    xcom_prefix = "class"
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "title",
        "fields",
        "description",
    )
    template_fields_renderers = {"fields": "json"}

    def __init__(
        self,
        *,
        title: str,
        fields: Mapping[str, str | Mapping[str, Any]] | str,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_dict(fields, "fields", CLASS_FIELDS)
        self.title = title
        self.fields = fields
        self.description = description

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.schemas import XDM_ADHOC_BEHAVIOUR, AdhocClass
        from airflow_provider_aep.models.validation import validate_request

        fields = json_dict(self.fields, "fields", CLASS_FIELDS, allow_none=False) or {}
        properties = {
            name: {"type": spec} if isinstance(spec, str) else dict(spec) for name, spec in fields.items()
        }
        body = {
            "type": "object",
            "title": self.title,
            # Schema Registry's request schema requires a description: the title stands in for one
            "description": self.description or self.title,
            "allOf": [
                {"$ref": XDM_ADHOC_BEHAVIOUR},
                {"properties": {"_adhoc": {"type": "object", "properties": properties}}},
            ],
        }
        return validate_request(AdhocClass, body, "ad-hoc class").to_payload()


class AEPDeleteSchemaOperator(AEPDeleteResourceOperator):
    """Delete a tenant schema or class by ``$id`` or ``meta:altId``; returns it, or ``None`` if missing.

    Delete the datasets that use a schema first: AEP refuses to delete a schema in use.

    ``ignore_missing=True``: succeed when it does not exist.

    :param schema_id: the ``$id`` or ``meta:altId`` (templated as ``resource_id``).
    :param resource_type: ``schemas`` (default) or ``classes``.
    """

    service = "schemaregistry"
    id_argument = "schema_id"

    def __init__(
        self, *, schema_id: IdArg, resource_type: Literal["schemas", "classes"] = "schemas", **kwargs: Any
    ) -> None:
        super().__init__(resource_id=schema_id, **kwargs)
        if resource_type not in ("schemas", "classes"):
            raise AEPConfigError(f"resource_type: must be 'schemas' or 'classes', got {resource_type!r}")
        self.collection = f"/tenant/{resource_type}"
        self.what = "schema" if resource_type == "schemas" else "class"

    def read_headers(self) -> Mapping[str, str] | None:
        return XED_FULL_ACCEPT
