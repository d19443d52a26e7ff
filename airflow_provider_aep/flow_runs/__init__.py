"""Everything about waiting for AEP flow runs, shared by the sensor, the run operator and the trigger.

* :mod:`.interpretation`: how to read a run item and what it means (no I/O): statuses, windows,
  the one fail-closed verdict per run or per window.
* :mod:`.waiting`: what a wait is for (:class:`~.waiting.WaitTarget`), the window a DAG run ingests,
  one look at the runs through the sync hook, and settling a verdict.
* :mod:`.trigger`: :class:`~.trigger.AEPFlowRunTrigger` (served to the triggerer as
  ``airflow_provider_aep.triggers.flow_run.AEPFlowRunTrigger``) and :func:`~.trigger.defer_wait`.

The names of :mod:`.interpretation` are importable from here.
"""

from __future__ import annotations

from airflow_provider_aep.flow_runs.interpretation import (
    AEPFlowRunStatus,
    FlowRunReport,
    FlowRunVerdict,
    Outcome,
    RunError,
    covers,
    epoch_seconds,
    interpret,
    interpret_runs,
    interpret_window,
    reaches_end,
    read_flow_run,
    timeout_message,
)

__all__ = [
    "AEPFlowRunStatus",
    "FlowRunReport",
    "FlowRunVerdict",
    "Outcome",
    "RunError",
    "covers",
    "epoch_seconds",
    "interpret",
    "interpret_runs",
    "interpret_window",
    "reaches_end",
    "read_flow_run",
    "timeout_message",
]
