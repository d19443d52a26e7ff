"""AEP sensors: ``from airflow_provider_aep.sensors import AEPFlowRunSensor``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["AEPFlowRunSensor"]

if TYPE_CHECKING:
    from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package does not build the sensor class.
    if name == "AEPFlowRunSensor":
        from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

        return AEPFlowRunSensor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
