"""The import path the triggerer loads ``AEPFlowRunTrigger`` from (it lives in ``flow_runs.trigger``).

Serialized triggers name this path (``AEPFlowRunTrigger.serialize``), so it stays stable.
"""

from __future__ import annotations

from airflow_provider_aep.flow_runs.trigger import AEPFlowRunTrigger

__all__ = ["AEPFlowRunTrigger"]
