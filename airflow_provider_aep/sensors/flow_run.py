"""``AEPFlowRunSensor``: wait for an AEP flow run, or for the runs of a scheduled dataflow over a window."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_aep.lineage import AEPLineageMixin
from airflow_provider_aep.links import AEPFlowRunLink
from airflow_provider_aep.operators.arguments import positive_seconds, resolve_deferrable

if TYPE_CHECKING:
    from airflow.sdk import Context, XComArg

    from airflow_provider_aep.flow_runs.interpretation import FlowRunVerdict
    from airflow_provider_aep.flow_runs.progress import WaitProgress
    from airflow_provider_aep.flow_runs.report import QualityGate
    from airflow_provider_aep.flow_runs.waiting import WaitTarget
    from airflow_provider_aep.hooks.aep import AEPHook

# The waiting logic (the ``flow_runs`` package) is imported inside the methods: DAG files
# import this module at every parse, and only a running task needs it.


class AEPFlowRunSensor(AEPLineageMixin, BaseSensorOperator):
    """Wait until an AEP flow run succeeds, or until the runs of a dataflow covering a window do.

    Two ways to say what to wait for:

    * ``flow_run_id``: one run (e.g. the output of ``AEPTriggerFlowRunOperator(wait_for_completion=False)``);
    * ``flow_id`` (without ``flow_run_id``): the runs of a dataflow that AEP schedules itself
      (``scheduleParams``) whose windows cover ``[window_start, window_end)``, by default the DAG
      run's data interval. It succeeds when every covering run succeeded and they reach the end of
      the window, and fails as soon as one of them failed.

    It fails closed: only a status known to mean success succeeds; ``failed``, an unknown status,
    and (unless ``allow_partial_success``) ``partialSuccess`` fail the task with the run id, status,
    error codes and messages, and record counts. ``soft_fail`` turns a failed run or a timeout into
    a skip. ``timeout``, ``poke_interval`` and ``mode`` work as for every Airflow sensor; with
    ``deferrable=True`` the wait runs in the triggerer (``AEPFlowRunTrigger``), which keeps the
    deadline itself, so a timeout there is reported like in poke mode.

    Returns (XCom) the run id, or the list of covering run ids in window mode; pushes ``flow_run_id``
    and ``flow_id`` for the AEP link, and ``run_report`` (records read, written and failed, duration,
    error codes, batches) when the wait ends, which it also logs.

    Assets: once the run(s) succeeded, each AEP dataset asset in ``outlets``
    (:func:`~airflow_provider_aep.assets.aep_dataset_asset`) gets an event whose ``extra`` holds the
    flow id, the run id(s), the window, the record counts (summed over the runs) and the batch ids; it
    must be a dataset the dataflow writes, in the connection's org and the task's sandbox. Each
    ``AssetAlias`` in ``outlets`` gets one such event per dataset the dataflow writes. OpenLineage
    (``openlineage`` extra): the source connections in, the datasets out, with the rows written;
    on failure the same as far as known, with the error and the run report (``errorMessage``).

    :param flow_run_id: the run to wait for (templated).
    :param flow_id: the dataflow, for window mode (templated).
    :param window_start: window start: datetime, epoch seconds or ISO date; default the data
        interval start (templated).
    :param window_end: window end; default the data interval end (templated).
    :param aep_conn_id: Airflow connection of type ``aep``.
    :param sandbox: sandbox instead of the connection's (templated).
    :param allow_partial_success: accept runs that only partly succeeded (and, with no threshold below,
        every row they dropped).
    :param max_failed_records: dropped rows tolerated in runs AEP calls successful; by default none (the
        task fails, or skips under ``soft_fail``, naming the counts and error codes, and logs the first
        failed rows), unless the dataflow's partial ingestion allows a share of bad rows.
    :param max_failed_ratio: dropped rows over rows read tolerated, from 0 to 1.
    :param deferrable: ``True`` waits in the triggerer (``AEPFlowRunTrigger``), ``False`` pokes;
        ``None`` (the default) means ``[operators] default_deferrable`` (``False`` when unset), read
        when the task is constructed.

    A long wait logs its progress (status, records so far) on its first look, when a status changes,
    and every 10 looks or 5 minutes (in reschedule mode, every look), without logging every poke.

    A poke costs about one ``GET /runs/{id}``: the pokes of one task try share the hook made on the
    first one (the Airflow connection is read once; the HTTP client and the IMS token are the
    process's), and push ``flow_run_id``/``flow_id`` once, not at every poke.
    """

    template_fields: Sequence[str] = ("flow_run_id", "flow_id", "window_start", "window_end", "sandbox")
    operator_extra_links = (AEPFlowRunLink(),)
    ui_color = "#eb1000"

    def __init__(
        self,
        *,
        flow_run_id: str | XComArg | None = None,
        flow_id: str | XComArg | None = None,
        window_start: Any = None,
        window_end: Any = None,
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        allow_partial_success: bool = False,
        max_failed_records: int | None = None,
        max_failed_ratio: float | None = None,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not flow_run_id and not flow_id:
            raise ValueError("AEPFlowRunSensor needs flow_run_id, or flow_id to wait for a window")
        positive_seconds(self.poke_interval, "poke_interval")
        # both are str once rendered (they may be XComArgs before)
        self.flow_run_id: Any = flow_run_id
        self.flow_id: Any = flow_id
        self.window_start = window_start
        self.window_end = window_end
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.allow_partial_success = allow_partial_success
        self.max_failed_records = max_failed_records
        self.max_failed_ratio = max_failed_ratio
        self.quality_gate  # noqa: B018 - a bad threshold fails here, when the DAG is parsed
        self.deferrable = resolve_deferrable(deferrable)

    def target(self, context: Context) -> WaitTarget:
        """What to wait for, from the rendered arguments and the DAG run's data interval."""
        from airflow_provider_aep.flow_runs.waiting import WaitTarget, resolve_window

        if self.flow_run_id:
            return WaitTarget((str(self.flow_run_id),), self.flow_id)
        window = resolve_window(self.window_start, self.window_end, context)
        return WaitTarget((), str(self.flow_id), window)

    @property
    def quality_gate(self) -> QualityGate:
        """How many dropped rows this task tolerates (``flow_runs.report.QualityGate``)."""
        from airflow_provider_aep.flow_runs.report import QualityGate

        return QualityGate.for_task(
            self.max_failed_records, self.max_failed_ratio, self.allow_partial_success
        )

    @cached_property
    def hook(self) -> AEPHook:
        """The AEP hook of this task, made on its first use (after templates are rendered) and kept:
        the pokes of one task try read the Airflow connection once, not at every poke (each read
        costs a secrets-backend look-up, a round trip to the API server for a connection kept in
        Airflow's database). Its HTTP client and IMS token are the process's own, shared by every
        hook. A reschedule-mode poke is a new try: it reads the connection again."""
        from airflow_provider_aep.hooks.aep import AEPHook

        return AEPHook(self.aep_conn_id, sandbox=self.sandbox)

    def execute(self, context: Context) -> Any:
        """Poke (``poke``/``reschedule`` mode) or defer to ``AEPFlowRunTrigger``."""
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_aep.flow_runs.waiting import fetch_reports, push_run_ids

        target = self.target(context)
        verdict = target.verdict(fetch_reports(self.hook, target), self.allow_partial_success)
        if verdict.finished:  # no need to occupy the triggerer
            return self._conclude(context, target, verdict)
        push_run_ids(context, target, verdict.reports)
        from airflow_provider_aep.flow_runs.trigger import defer_wait

        defer_wait(self, target, poll_interval=self.poke_interval)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One look at the run(s): done, still waiting, or failed."""
        from airflow_provider_aep.flow_runs.waiting import fetch_reports, push_run_ids

        target = self.target(context)
        verdict = target.verdict(fetch_reports(self.hook, target), self.allow_partial_success)
        if not verdict.finished:
            line = self._progress(target).poll(verdict.reports)
            if line:
                self.log.info("%s", line)
            push_run_ids(context, target, verdict.reports, pushed=self._pushed_by(context))
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._conclude(context, target, verdict))

    def _pushed_by(self, context: Context) -> dict[str, Any]:
        """The link XComs this task instance (``context["ti"]``) pushed in earlier pokes."""
        ti = context.get("ti")
        memo: tuple[Any, dict[str, Any]] | None = getattr(self, "_pushed_xcoms", None)
        if memo is None or memo[0] is not ti:
            memo = (ti, {})
            self._pushed_xcoms = memo
        return memo[1]

    def _progress(self, target: WaitTarget) -> WaitProgress:
        """The progress of this wait over the pokes of one worker process."""
        from airflow_provider_aep.flow_runs.progress import WaitProgress

        progress: WaitProgress | None = getattr(self, "_wait_progress", None)
        if progress is None:
            progress = WaitProgress(target.describe())
            self._wait_progress = progress
        return progress

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Read the trigger's event and reach the same verdict as poke mode would."""
        from airflow_provider_aep.flow_runs.waiting import TIMEOUT_EVENT, TriggerOutcome

        outcome = TriggerOutcome.from_event(event)
        outcome.raise_if_error()
        target = self.target(context)
        if outcome.status == TIMEOUT_EVENT:
            from airflow.sdk.exceptions import AirflowSensorTimeout

            from airflow_provider_aep.flow_runs.interpretation import timeout_message
            from airflow_provider_aep.flow_runs.trigger import wait_timeout

            # the base class turns this into a skip under soft_fail
            raise AirflowSensorTimeout(
                timeout_message(target.describe(), wait_timeout(self), outcome.reports)
            )
        verdict = target.verdict(outcome.reports, self.allow_partial_success)
        if not verdict.finished:
            from airflow_provider_aep.exceptions import AEPError

            raise AEPError(f"AEPFlowRunTrigger stopped before the wait was over: {verdict.message}")
        return self._conclude(context, target, verdict)

    def _conclude(self, context: Context, target: WaitTarget, verdict: FlowRunVerdict) -> Any:
        from airflow_provider_aep.exceptions import AEPDroppedRowsError
        from airflow_provider_aep.flow_runs.waiting import push_run_ids

        push_run_ids(context, target, verdict.reports)
        if verdict.failed and self.soft_fail:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"soft_fail: {verdict.message}")
        try:  # the run report, the quality gate, asset events and OpenLineage facts
            self.conclude_wait(
                context,
                self.hook,
                verdict,
                gate=self.quality_gate,
                flow_id=target.flow_id,
                window=target.window,
            )
        except AEPDroppedRowsError as exc:
            if not self.soft_fail:
                raise
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"soft_fail: {exc}") from None
        if target.by_window:
            return [report.run_id for report in verdict.reports]
        return target.run_ids[0]
