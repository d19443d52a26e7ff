"""Catalog datasets: ``POST /dataSets?requestDataSource=true``."""

from __future__ import annotations

from typing import Any

from airflow_provider_aep.models._base import AEPOpenModel, NonEmptyStr, XdmSchemaReference


class Dataset(AEPOpenModel):
    """A dataset bound to an XDM schema. Catalog accepts more fields (``enableErrorDiagnostics``,
    ``observableSchema``...): they are passed through.

    :ivar name: the dataset name.
    :ivar schemaRef: the schema ``$id`` and its XDM content type.
    :ivar description: optional description.
    :ivar tags: optional tags, name to list of values (``{"unifiedProfile": ["enabled: true"]}``).
    :ivar fileDescription: optional file settings (``format``, ``delimiters``...).
    """

    name: NonEmptyStr
    schemaRef: XdmSchemaReference
    description: str | None = None
    tags: dict[str, list[str]] | None = None
    fileDescription: dict[str, Any] | None = None
