"""``AEPTriggerFlowRunOperator``: one on-demand AEP flow run per Airflow data interval.

This is how Airflow owns the schedule: the dataflow is created with ``frequency: once`` and each
DAG run (scheduled, backfilled or triggered) asks AEP to ingest its own data interval.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_aep.lineage import AEPLineageMixin
from airflow_provider_aep.links import AEPFlowRunLink
from airflow_provider_aep.operators.arguments import check_delta_column, positive_seconds, resolve_deferrable

if TYPE_CHECKING:
    from airflow.sdk import Context, XComArg

    from airflow_provider_aep.flow_runs.interpretation import FlowRunReport, FlowRunVerdict
    from airflow_provider_aep.flow_runs.report import QualityGate
    from airflow_provider_aep.flow_runs.waiting import WaitTarget
    from airflow_provider_aep.hooks.aep import AEPHook

#: How many times a ``POST /runs`` whose answer was lost is looked up, then sent again.
CREATE_ATTEMPTS = 3
DEFAULT_TIMEOUT_SECONDS = 7 * 24 * 3600.0


def retry_since_ms(context: Context) -> int | None:
    """When the DAG run started (epoch ms) if this is a retry of the task, else ``None``."""
    ti = context.get("ti")
    dag_run = context.get("dag_run")
    started = getattr(dag_run, "start_date", None)
    if int(getattr(ti, "try_number", 1) or 1) <= 1 or started is None:
        return None
    return int(started.timestamp() * 1000)


class AEPTriggerFlowRunOperator(AEPLineageMixin, BaseOperator):
    """Start an on-demand run of a dataflow scheduled ``once`` over a data window, and wait for it.

    The window defaults to the DAG run's data interval (``windowStartTime``/``windowEndTime`` =
    ``data_interval_start``/``data_interval_end`` in epoch seconds), so a backfill of N intervals is
    N windowed runs. ``POST /runs`` is never sent twice for one window: a run of the same dataflow
    and window that has not failed is reused (a task retry resumes the wait), and when the answer
    to a ``POST /runs`` is lost the runs are looked up before the request is repeated. A run that
    failed is not reused, so retrying the task ingests the window again.

    Waiting fails closed like ``AEPFlowRunSensor``: only a known success succeeds, and a failure
    names the run, its status, error codes and messages, and record counts.

    Returns (XCom) the run id; pushes ``flow_run_id`` and ``flow_id`` for the AEP link.

    Assets: once the run succeeded, each AEP dataset asset in ``outlets``
    (:func:`~airflow_provider_aep.assets.aep_dataset_asset`) gets an event whose ``extra`` holds the
    flow and run ids, the window, the record counts and the batch ids; it must be a dataset the dataflow
    writes, in the connection's org and the task's sandbox. Each ``AssetAlias`` in ``outlets`` gets one
    such event per dataset the dataflow writes. Both need ``wait_for_completion=True``. OpenLineage
    (``openlineage`` extra): the source connections in, the datasets out, with the rows written;
    on failure the same as far as known, with the error and the run report (``errorMessage``).

    :param flow_id: the dataflow, scheduled ``once`` (templated).
    :param delta_column: the source column that dates new rows, required by CRM and database sources:
        its name (``"Update_Time"``), or the dataflow's ``{"name", "dateFormat", "timezone"}`` dict, as
        ``AEPCreateDataflowOperator`` takes it (a run sends ``deltaColumn.name`` only); a rendered JSON
        string of either works too (templated).
    :param window_start: window start: datetime, epoch seconds or ISO date; default the data
        interval start (templated).
    :param window_end: window end; default the data interval end (templated).
    :param aep_conn_id: Airflow connection of type ``aep``.
    :param sandbox: sandbox instead of the connection's (templated).
    :param wait_for_completion: wait until the run ends; else return the run id right away.
    :param deferrable: ``True`` waits in the triggerer (``AEPFlowRunTrigger``), ``False`` in the worker;
        ``None`` (the default) means ``[operators] default_deferrable`` (``False`` when unset), read
        when the task is constructed.
    :param poll_interval: seconds between two looks at the run, a positive number (``0`` fails when the
        DAG is parsed: AEP's APIs rate-limit); a long wait logs its progress (status,
        records so far) every 10 looks or 5 minutes, and when the status changes.
    :param timeout: how long to wait for the run (seconds or timedelta).
    :param allow_partial_success: accept a run that only partly succeeded (and, with no threshold below,
        every row it dropped).
    :param max_failed_records: dropped rows tolerated in a run AEP calls successful; by default none (the
        task fails, naming the counts and error codes, and logs the first failed rows), unless the
        dataflow's partial ingestion allows a share of bad rows.
    :param max_failed_ratio: dropped rows over rows read tolerated, from 0 to 1.

    Pushes ``run_report`` (records read, written and failed, duration, error codes, batches) when the
    run ends, and logs it.
    """

    template_fields: Sequence[str] = ("flow_id", "delta_column", "window_start", "window_end", "sandbox")
    operator_extra_links = (AEPFlowRunLink(),)
    ui_color = "#eb1000"

    def __init__(
        self,
        *,
        flow_id: str | XComArg,
        delta_column: str | Mapping[str, Any] | None = None,
        window_start: Any = None,
        window_end: Any = None,
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float | timedelta = DEFAULT_TIMEOUT_SECONDS,
        allow_partial_success: bool = False,
        max_failed_records: int | None = None,
        max_failed_ratio: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_delta_column(delta_column)
        self.flow_id: Any = flow_id  # a str once rendered (it may be an XComArg before)
        self.delta_column = delta_column
        self.window_start = window_start
        self.window_end = window_end
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.wait_for_completion = wait_for_completion
        self.deferrable = resolve_deferrable(deferrable)
        self.poll_interval = positive_seconds(poll_interval, "poll_interval")
        self.timeout = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        self.allow_partial_success = allow_partial_success
        self.max_failed_records = max_failed_records
        self.max_failed_ratio = max_failed_ratio
        self.quality_gate  # noqa: B018 - a bad threshold fails here, when the DAG is parsed
        self.check_outlets_can_be_filled(wait_for_completion)

    @property
    def quality_gate(self) -> QualityGate:
        """How many dropped rows this task tolerates (``flow_runs.report.QualityGate``)."""
        from airflow_provider_aep.flow_runs.report import QualityGate

        return QualityGate.for_task(
            self.max_failed_records, self.max_failed_ratio, self.allow_partial_success
        )

    def _hook(self) -> AEPHook:
        from airflow_provider_aep.hooks.aep import AEPHook

        return AEPHook(self.aep_conn_id, sandbox=self.sandbox)

    def execute(self, context: Context) -> str:
        """Start (or find) the window's run, then wait for it as configured."""
        from airflow_provider_aep.flow_runs.waiting import WaitTarget, push_run_ids, resolve_window

        window = resolve_window(self.window_start, self.window_end, context)
        hook = self._hook()
        run_id = self.ensure_run(hook, window, retry_since_ms(context))
        target = WaitTarget((run_id,), self.flow_id)
        push_run_ids(context, target, ())
        if not self.wait_for_completion:
            return run_id
        if self.deferrable:
            self._defer_unless_done(hook, target, context)
            return run_id
        self._poll_until_done(hook, target, context)
        return run_id

    # -- starting a run, once per window ----------------------------------------------------------

    def ensure_run(self, hook: AEPHook, window: tuple[int, int], retry_since_ms: int | None = None) -> str:
        """The id of the window's run: an existing one that has not failed, else a new one.

        Runs are matched by the window they show (:func:`~airflow_provider_aep.flow_runs.read_flow_run`).
        Where AEP shows no window on a run, a run cannot be proved to be someone else's, so this fails
        rather than risk ingesting the window twice: after a lost ``POST /runs`` answer when such a run
        appeared meanwhile, and on a task retry (``retry_since_ms``: when the DAG run started) when
        such a run was created since.
        """
        from airflow_provider_aep.exceptions import AEPServerError, AEPTransportError
        from airflow_provider_aep.models.responses import created_id

        body = self._run_request(window)
        before_lost_post: set[str] | None = None
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            reports = self.flow_runs(hook)
            existing = self.reusable_run(reports, window)
            if existing is not None:
                self.log.info(
                    "Reusing AEP flow run %s of window %s (status %s)",
                    existing.run_id,
                    window,
                    existing.raw_status,
                )
                return existing.run_id
            if before_lost_post is not None:
                self._refuse_unprovable(
                    [r for r in reports if r.run_id not in before_lost_post], "the POST /runs answer was lost"
                )
            elif retry_since_ms is not None:
                since = [r for r in reports if (r.created_at_ms or 0) >= retry_since_ms]
                self._refuse_unprovable(since, "this is a retry of the task")
            before_lost_post = {r.run_id for r in reports}
            try:
                answer = hook.request("POST", "flowservice", "/runs", json=body, idempotent=False)
            except (AEPServerError, AEPTransportError) as exc:
                if attempt == CREATE_ATTEMPTS:
                    raise
                # AEP may have created the run before the answer was lost: look before repeating
                self.log.warning("POST /runs got no usable answer (%s); looking the run up", exc)
                time.sleep(min(2.0 ** (attempt - 1), 10.0))
                continue
            run_id = created_id(answer)
            self.log.info(
                "Started AEP flow run %s of dataflow %s over window %s", run_id, self.flow_id, window
            )
            return run_id
        raise AssertionError("unreachable: the last attempt returns or raises")

    def flow_runs(self, hook: AEPHook) -> list[FlowRunReport]:
        """Every run of the dataflow (``GET /runs?property=flowId==...``, all pages)."""
        from airflow_provider_aep.flow_runs.interpretation import read_flow_run
        from airflow_provider_aep.flow_runs.waiting import runs_query

        items = hook.iter_items("flowservice", "/runs", params=runs_query(self.flow_id))
        return [read_flow_run(item) for item in items]

    def reusable_run(self, reports: list[FlowRunReport], window: tuple[int, int]) -> FlowRunReport | None:
        """The latest run that shows exactly this window and has not failed."""
        from airflow_provider_aep.flow_runs.interpretation import interpret
        from airflow_provider_aep.flow_runs.waiting import matching_window

        alive = [
            r
            for r in matching_window(reports, *window)
            if not interpret(r, self.allow_partial_success).failed
        ]
        alive.sort(key=lambda r: (r.created_at_ms or 0, r.run_id))
        return alive[-1] if alive else None

    def find_reusable_run(self, hook: AEPHook, window: tuple[int, int]) -> FlowRunReport | None:
        """The latest run of this dataflow that shows exactly this window and has not failed."""
        return self.reusable_run(self.flow_runs(hook), window)

    def _refuse_unprovable(self, candidates: list[FlowRunReport], why: str) -> None:
        from airflow_provider_aep.exceptions import AEPError

        windowless = [r.run_id for r in candidates if r.window_start is None or r.window_end is None]
        if windowless:
            raise AEPError(
                f"Not starting another run of AEP dataflow {self.flow_id}: {why}, and AEP shows no data "
                f"window on run(s) {', '.join(windowless)}, so one of them may already ingest this window. "
                "Check them in AEP; to start a run anyway, pass an explicit new window or clear the task "
                "once they have ended."
            )

    def _run_request(self, window: tuple[int, int]) -> dict[str, Any]:
        from airflow_provider_aep.models.flows import FlowRunRequest
        from airflow_provider_aep.models.validation import validate_request

        params: dict[str, Any] = {
            "startTime": int(time.time()),
            "windowStartTime": window[0],
            "windowEndTime": window[1],
        }
        from airflow_provider_aep.operators.arguments import delta_column

        column = delta_column(self.delta_column)
        if column is not None:
            # Adobe's on-demand ingestion guide sends deltaColumn {name}; its format belongs to the dataflow
            params["deltaColumn"] = {"name": column["name"]}
        request = {"flowId": self.flow_id, "params": params}
        return validate_request(FlowRunRequest, request, "flow run request").to_payload()

    # -- waiting --------------------------------------------------------------------------------

    def _poll_until_done(self, hook: AEPHook, target: WaitTarget, context: Context) -> None:
        from airflow_provider_aep.exceptions import AEPError
        from airflow_provider_aep.flow_runs.interpretation import timeout_message
        from airflow_provider_aep.flow_runs.progress import WaitProgress
        from airflow_provider_aep.flow_runs.waiting import fetch_reports

        deadline = time.monotonic() + self.timeout
        progress = WaitProgress(target.describe())
        while True:
            reports = fetch_reports(hook, target)
            verdict = target.verdict(reports, self.allow_partial_success)
            if verdict.finished:
                self._conclude(context, hook, verdict)
                return
            if time.monotonic() >= deadline:
                raise AEPError(timeout_message(target.describe(), self.timeout, reports))
            line = progress.poll(reports)
            if line:
                self.log.info("%s", line)
            time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))

    def _defer_unless_done(self, hook: AEPHook, target: WaitTarget, context: Context) -> None:
        from airflow_provider_aep.flow_runs.trigger import defer_wait
        from airflow_provider_aep.flow_runs.waiting import fetch_reports

        verdict = target.verdict(fetch_reports(hook, target), self.allow_partial_success)
        if verdict.finished:  # e.g. a reused run that already ended: no need for the triggerer
            self._conclude(context, hook, verdict)
            return
        defer_wait(self, target, poll_interval=self.poll_interval)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Read the trigger's event and reach the same verdict as the polling wait would."""
        from airflow_provider_aep.exceptions import AEPError
        from airflow_provider_aep.flow_runs.interpretation import timeout_message
        from airflow_provider_aep.flow_runs.trigger import wait_timeout
        from airflow_provider_aep.flow_runs.waiting import (
            TIMEOUT_EVENT,
            TriggerOutcome,
            WaitTarget,
            push_run_ids,
        )

        outcome = TriggerOutcome.from_event(event)
        outcome.raise_if_error()
        run_ids = [str(run_id) for run_id in (event or {}).get("run_ids") or ()]
        target = WaitTarget(tuple(run_ids), self.flow_id)
        push_run_ids(context, target, ())  # a resumed task: its links are built from these again
        if outcome.status == TIMEOUT_EVENT:
            raise AEPError(timeout_message(target.describe(), wait_timeout(self), outcome.reports))
        verdict = target.verdict(outcome.reports, self.allow_partial_success)
        if not verdict.finished:
            raise AEPError(f"AEPFlowRunTrigger stopped before the run ended: {verdict.message}")
        hook = self._hook()
        self._conclude(context, hook, verdict)
        return run_ids[0]

    def _conclude(self, context: Context, hook: AEPHook, verdict: FlowRunVerdict) -> None:
        """The run ended: report and gate it, then asset events and OpenLineage facts
        (:meth:`~airflow_provider_aep.lineage.AEPLineageMixin.conclude_wait`)."""
        from airflow_provider_aep.flow_runs.waiting import resolve_window

        def window() -> tuple[int, int]:
            return resolve_window(self.window_start, self.window_end, context)

        self.conclude_wait(
            context, hook, verdict, gate=self.quality_gate, flow_id=str(self.flow_id), window=window
        )
