"""Extra links from a task to its resource in the Adobe Experience Platform UI.

URL format (the AEP UI is a single-page app addressed by org and sandbox in the fragment)::

    <ui_url>/#/@<org id>/sname:<sandbox>/platform/<route>

with ``<ui_url>`` = ``https://experience.adobe.com`` unless the ``aep`` connection has an extra
``ui_url`` (the emulator, a proxy, another AEP region), ``<org id>`` the connection's ``org_id``,
``<sandbox>`` the task's sandbox or the connection's, and ``<route>``:

* dataflow: ``source/dataflows/<flow_id>`` (XCom ``flow_id``)
* flow run: ``source/dataflows/<flow_id>/runs/<flow_run_id>`` (XCom ``flow_id`` and ``flow_run_id``)
* dataset: ``dataset/browse/<dataset_id>`` (XCom ``dataset_id``)
* schema: ``schema/edit/<url-encoded schema $id>`` (XCom ``schema_id``)

Airflow 3 computes a link in the worker right after the task ran (and when it defers) and stores the
URL. A link is built from the ids the task pushed in this very run, which the operator remembers as it
pushes them (:func:`remember_link_ids`): it never asks XCom for a key, so a task that pushed no id yet
(a sensor still looking for its run) shows no link and logs no "XCom not found" error. The operator
must have ``aep_conn_id`` (and may have ``sandbox``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

DEFAULT_UI_URL = "https://experience.adobe.com"

#: The operator attribute holding the ids its links are built from (see :func:`remember_link_ids`).
LINK_IDS_ATTRIBUTE = "_aep_link_ids"
#: The XCom keys some link is built from.
LINK_KEYS = frozenset({"flow_id", "flow_run_id", "dataset_id", "schema_id"})


def remember_link_ids(task: object, values: Mapping[str, Any]) -> None:
    """Note on the running ``task`` the ids it pushed that links are built from (non-empty ones).

    Called by every AEP operator as it pushes its XComs; the links read these, never XCom.
    """
    if task is None:
        return
    ids = {key: value for key, value in values.items() if key in LINK_KEYS and value}
    if ids:
        known: dict[str, Any] = dict(getattr(task, LINK_IDS_ATTRIBUTE, None) or {})
        known.update(ids)
        setattr(task, LINK_IDS_ATTRIBUTE, known)


def ui_base_url(aep_conn_id: str, sandbox: str | None = None) -> str:
    """``<ui_url>/#/@<org>/sname:<sandbox>/platform`` for an ``aep`` connection.

    :param aep_conn_id: the ``aep`` Airflow connection.
    :param sandbox: the sandbox, instead of the connection's.
    """
    from airflow.sdk import BaseHook

    extra: dict[str, Any] = BaseHook.get_connection(aep_conn_id).extra_dejson or {}

    def read(name: str) -> str:
        return str(extra.get(name) or extra.get(f"extra__aep__{name}") or "")

    ui_url = (read("ui_url") or DEFAULT_UI_URL).rstrip("/")
    org = read("org_id")
    chosen = (sandbox or read("sandbox") or "prod").lower()
    return f"{ui_url}/#/@{quote(org, safe='@')}/sname:{quote(chosen, safe='')}/platform"


class _AEPResourceLink(BaseOperatorLink):
    """A link built from XCom ids of the task and its ``aep`` connection."""

    xcom_keys: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def route(self, ids: dict[str, str]) -> str:
        """The part of the URL after ``/platform/``, from the (URL-encoded) XCom ids."""

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        # The ids this run of the task pushed (remember_link_ids), not an XCom look-up: asking XCom for
        # a key the task did not push makes Airflow log an "XCom not found" error in a task that is fine.
        known: Mapping[str, Any] = getattr(operator, LINK_IDS_ATTRIBUTE, None) or {}
        ids: dict[str, str] = {}
        for key in self.xcom_keys:
            value = known.get(key)
            if not value:
                return ""
            ids[key] = quote(str(value), safe="")
        conn_id = getattr(operator, "aep_conn_id", None) or "aep_default"
        return f"{ui_base_url(conn_id, getattr(operator, 'sandbox', None))}/{self.route(ids)}"


class AEPDataflowLink(_AEPResourceLink):
    """The dataflow (XCom ``flow_id``) in the AEP UI."""

    name = "AEP dataflow"
    xcom_keys = ("flow_id",)

    def route(self, ids: dict[str, str]) -> str:
        return f"source/dataflows/{ids['flow_id']}"


class AEPFlowRunLink(_AEPResourceLink):
    """The flow run (XCom ``flow_run_id`` of dataflow ``flow_id``) in the AEP UI."""

    name = "AEP flow run"
    xcom_keys = ("flow_id", "flow_run_id")

    def route(self, ids: dict[str, str]) -> str:
        return f"source/dataflows/{ids['flow_id']}/runs/{ids['flow_run_id']}"


class AEPDatasetLink(_AEPResourceLink):
    """The dataset (XCom ``dataset_id``) in the AEP UI."""

    name = "AEP dataset"
    xcom_keys = ("dataset_id",)

    def route(self, ids: dict[str, str]) -> str:
        return f"dataset/browse/{ids['dataset_id']}"


class AEPSchemaLink(_AEPResourceLink):
    """The XDM schema (XCom ``schema_id``, its ``$id``) in the AEP UI."""

    name = "AEP schema"
    xcom_keys = ("schema_id",)

    def route(self, ids: dict[str, str]) -> str:
        return f"schema/edit/{ids['schema_id']}"
