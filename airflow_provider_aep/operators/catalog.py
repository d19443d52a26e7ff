"""Catalog operators: ensure and delete a dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.links import AEPDatasetLink
from airflow_provider_aep.operators.arguments import check_dict, json_dict
from airflow_provider_aep.operators.base import AEPEnsureResourceOperator
from airflow_provider_aep.operators.deletion import AEPDeleteResourceOperator
from airflow_provider_aep.operators.resources import ResourceKind

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"


class AEPCreateDatasetOperator(AEPEnsureResourceOperator):
    """Ensure a dataset bound to an XDM schema: ``POST /dataSets?requestDataSource=true``; returns its id.

    Catalog answers ``["@/dataSets/<id>"]``; the id is read out of it. A dataset of the same name
    bound to another schema fails the task instead of being reused.

    XCom: return value = dataset id; ``dataset_id``; ``created``. Extra link: the dataset in AEP.
    OpenLineage (with the ``openlineage`` extra): the dataset as its output, ``aep://<org>/<sandbox>``
    ``datasets/<id>`` (the identity of its asset URI), with a ``CREATE`` lifecycle facet when it made it.

    :param name: the dataset name, looked up on re-runs (templated).
    :param schema_id: the ``$id`` of its XDM schema (templated).
    :param schema_content_type: the schema content type (``application/vnd.adobe.xed-full+json;version=1``).
    :param description: optional description (templated).
    :param tags: optional tags, e.g. ``{"unifiedProfile": ["enabled:true"]}`` (templated).
    :param file_description: optional file settings (templated).
    :param extra_fields: other Catalog dataset fields, passed through (templated). Each of these three
        is a dict, or a rendered JSON string of one.
    """

    kind = ResourceKind(
        what="dataset",
        service="catalog",
        collection="/dataSets",
        identity_fields=("schemaRef.id",),
        create_params={"requestDataSource": "true"},
    )
    template_fields: Sequence[str] = (
        *AEPEnsureResourceOperator.template_fields,
        "name",
        "schema_id",
        "schema_content_type",
        "description",
        "tags",
        "file_description",
        "extra_fields",
    )
    template_fields_renderers = {"tags": "json", "file_description": "json", "extra_fields": "json"}
    operator_extra_links = (AEPDatasetLink(),)

    def __init__(
        self,
        *,
        name: str,
        schema_id: IdArg,
        schema_content_type: str = XED_FULL,
        description: str | None = None,
        tags: Mapping[str, Sequence[str]] | str | None = None,
        file_description: Mapping[str, Any] | str | None = None,
        extra_fields: Mapping[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for argument, value in (("tags", tags), ("file_description", file_description)):
            check_dict(value, argument)
        check_dict(extra_fields, "extra_fields")
        self.name = name
        self.schema_id = schema_id
        self.schema_content_type = schema_content_type
        self.description = description
        self.tags = tags
        self.file_description = file_description
        self.extra_fields = extra_fields

    def build_payload(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aep.models.catalog import Dataset
        from airflow_provider_aep.models.validation import validate_request

        tags = json_dict(self.tags, "tags")
        body = {
            **(json_dict(self.extra_fields, "extra_fields") or {}),
            "name": self.name,
            "schemaRef": {"id": self.schema_id, "contentType": self.schema_content_type},
            "description": self.description,
            "tags": {key: list(values) for key, values in tags.items()} if tags else None,
            "fileDescription": json_dict(self.file_description, "file_description") or None,
        }
        return validate_request(Dataset, body, "dataset").to_payload()

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        self.ensured = (resource_id, created)
        return {"created": created, "dataset_id": resource_id}

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """OpenLineage: the dataset this task ensured is its output."""
        ensured: tuple[str, bool] | None = getattr(self, "ensured", None)
        if ensured is None:
            return None
        from airflow_provider_aep.assets import AEPDatasetRef
        from airflow_provider_aep.openlineage_facets import dataset_openlineage

        settings = self.hook.settings
        dataset = AEPDatasetRef.of(ensured[0], settings.sandbox, settings.org_id)
        return dataset_openlineage(dataset, self.name, ensured[1])


class AEPDeleteDatasetOperator(AEPDeleteResourceOperator):
    """Delete a dataset (``DELETE /dataSets/{id}``) and its data; returns its id, or ``None`` if missing.

    ``ignore_missing=True``: succeed when it does not exist.

    :param dataset_id: the dataset id (templated as ``resource_id``).
    """

    service = "catalog"
    collection = "/dataSets"
    what = "dataset"
    id_argument = "dataset_id"

    def __init__(self, *, dataset_id: IdArg, **kwargs: Any) -> None:
        super().__init__(resource_id=dataset_id, **kwargs)
