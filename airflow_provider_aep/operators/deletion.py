"""One delete mechanism shared by every ``AEPDelete*Operator``.

A delete first reads the resource: missing means done (``ignore_missing=True``) or a clear failure.
Then it deletes it; a ``404`` to the ``DELETE`` itself means an earlier try whose answer was lost
already deleted it (the hook repeats a ``DELETE`` after a lost answer), which is success.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators.base import AEPBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_aep.operators.base import IdArg


class AEPDeleteResourceOperator(AEPBaseOperator):
    """Delete one AEP resource by id; subclasses say where it lives.

    :param ignore_missing: succeed when the resource does not exist (already deleted).
    """

    service: ClassVar[str]
    collection: str
    what: str
    id_argument: ClassVar[str] = "resource_id"
    template_fields: Sequence[str] = (*AEPBaseOperator.template_fields, "resource_id")

    def __init__(self, *, resource_id: IdArg, ignore_missing: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource_id = resource_id
        self.ignore_missing = ignore_missing

    def resource_path(self) -> str:
        """The path of the resource under its service: ``<collection>/<url-encoded id>``."""
        return f"{self.collection}/{quote(str(self.resource_id), safe='')}"

    def read_headers(self) -> Mapping[str, str] | None:
        """Headers of the existence check (Schema Registry needs an ``Accept``)."""
        return None

    def execute(self, context: Context) -> str | None:
        from airflow_provider_aep.exceptions import AEPNotFoundError

        if not isinstance(self.resource_id, str) or not self.resource_id.strip():
            raise AEPConfigError(f"{self.id_argument}: must be a non-empty {self.what} id")
        path = self.resource_path()
        try:
            self.hook.get(self.service, path, headers=self.read_headers())
        except AEPNotFoundError:
            if not self.ignore_missing:
                raise
            self.log.info("The %s %s does not exist; nothing to delete", self.what, self.resource_id)
            return None
        try:
            self.hook.delete(self.service, path)
        except AEPNotFoundError:
            self.log.info("The %s %s was already deleted by an earlier try", self.what, self.resource_id)
        else:
            self.log.info("Deleted the %s %s", self.what, self.resource_id)
        return self.resource_id
