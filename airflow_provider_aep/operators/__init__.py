"""AEP operators, exported lazily: importing one operator does not import every module.

``from airflow_provider_aep.operators import AEPCreateDataflowOperator`` imports only
``operators.flow_service`` (DAG files are parsed constantly; the import cost must stay small).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_MODULES = {
    "accounts": ("AEPCreateBaseConnectionOperator",),
    "flow_service": (
        "AEPCreateSourceConnectionOperator",
        "AEPCreateTargetConnectionOperator",
        "AEPCreateDataflowOperator",
        "AEPGetFlowSpecOperator",
        "AEPGetConnectionSpecOperator",
    ),
    "flow_service_manage": (
        "AEPGetDataflowOperator",
        "AEPGetBaseConnectionOperator",
        "AEPUpdateDataflowOperator",
        "AEPUpdateBaseConnectionOperator",
        "AEPEnableDataflowOperator",
        "AEPDisableDataflowOperator",
        "AEPDeleteDataflowOperator",
        "AEPDeleteConnectionOperator",
    ),
    "catalog": ("AEPCreateDatasetOperator", "AEPDeleteDatasetOperator"),
    "schema_registry": ("AEPCreateSchemaOperator", "AEPCreateAdhocClassOperator", "AEPDeleteSchemaOperator"),
    "data_prep": ("AEPCreateMappingSetOperator",),
    "streaming": ("AEPSendStreamingEventsOperator",),
    "flow_runs": ("AEPTriggerFlowRunOperator",),
    "diagnostics": ("AEPGetFailedRowsOperator",),
    "base": ("AEPBaseOperator", "AEPEnsureResourceOperator"),
    "resources": ("AEPResourceMismatchError", "ResourceKind"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "AEPBaseOperator",
    "AEPCreateAdhocClassOperator",
    "AEPCreateBaseConnectionOperator",
    "AEPCreateDataflowOperator",
    "AEPCreateDatasetOperator",
    "AEPCreateMappingSetOperator",
    "AEPCreateSchemaOperator",
    "AEPCreateSourceConnectionOperator",
    "AEPCreateTargetConnectionOperator",
    "AEPDeleteConnectionOperator",
    "AEPDeleteDataflowOperator",
    "AEPDeleteDatasetOperator",
    "AEPDeleteSchemaOperator",
    "AEPDisableDataflowOperator",
    "AEPEnableDataflowOperator",
    "AEPEnsureResourceOperator",
    "AEPGetBaseConnectionOperator",
    "AEPGetConnectionSpecOperator",
    "AEPGetDataflowOperator",
    "AEPGetFailedRowsOperator",
    "AEPGetFlowSpecOperator",
    "AEPResourceMismatchError",
    "AEPSendStreamingEventsOperator",
    "AEPTriggerFlowRunOperator",
    "AEPUpdateBaseConnectionOperator",
    "AEPUpdateDataflowOperator",
    "ResourceKind",
]

if TYPE_CHECKING:
    from airflow_provider_aep.operators.accounts import AEPCreateBaseConnectionOperator
    from airflow_provider_aep.operators.base import AEPBaseOperator, AEPEnsureResourceOperator
    from airflow_provider_aep.operators.catalog import AEPCreateDatasetOperator, AEPDeleteDatasetOperator
    from airflow_provider_aep.operators.data_prep import (
        AEPCreateMappingSetOperator,
    )
    from airflow_provider_aep.operators.diagnostics import AEPGetFailedRowsOperator
    from airflow_provider_aep.operators.flow_service import (
        AEPCreateDataflowOperator,
        AEPCreateSourceConnectionOperator,
        AEPCreateTargetConnectionOperator,
        AEPGetConnectionSpecOperator,
        AEPGetFlowSpecOperator,
    )
    from airflow_provider_aep.operators.flow_service_manage import (
        AEPDeleteConnectionOperator,
        AEPDeleteDataflowOperator,
        AEPDisableDataflowOperator,
        AEPEnableDataflowOperator,
        AEPGetBaseConnectionOperator,
        AEPGetDataflowOperator,
        AEPUpdateBaseConnectionOperator,
        AEPUpdateDataflowOperator,
    )
    from airflow_provider_aep.operators.resources import AEPResourceMismatchError, ResourceKind
    from airflow_provider_aep.operators.schema_registry import (
        AEPCreateAdhocClassOperator,
        AEPCreateSchemaOperator,
        AEPDeleteSchemaOperator,
    )
    from airflow_provider_aep.operators.streaming import AEPSendStreamingEventsOperator


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
