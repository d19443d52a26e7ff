"""The fault matrix: ``aep_payments_batch`` under every fault the emulator can inject, one row per fault.

Each row is independent: a fresh emulator (its own port, no resource, no token), a fresh copy of a
migrated ``AIRFLOW_HOME``, one ``airflow dags test`` of the DAG with the fault injected through the
emulator's admin API, a timeout, and its process group stopped at the end. For each row it records
the DAG run's state, which tasks failed or were tried again and with what error, the requests AEP
received (total, IMS tokens, POSTs, GETs, requests on the faulted endpoint), what is left in the
emulator, the wall time, and a verdict against what the fault should do:

* ``recover`` (transient faults, lost answers, expired tokens): the DAG run succeeds and exactly
  the resources of a run without any fault exist (no duplicate);
* ``fail`` (a redirect, 400/403/404, an etag that stays stale): the DAG run fails, and the faulted
  endpoint saw at most one request per try of the failing task (the DAG's own task retries, no
  retry storm; two for a stale etag, which is read again and the PATCH repeated once).

The stale-etag rows run ``aep_dataflow_lifecycle``: ``aep_payments_batch`` sends no PATCH.

A verdict other than ``ok`` is a finding about the provider; the script reports it and exits 1.

    .venv/bin/python scripts/fault_matrix.py --output fault-matrix.md
    .venv/bin/python scripts/fault_matrix.py --only '503-*' --only baseline
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as ``python scripts/fault_matrix.py``
    sys.path.insert(0, str(REPO_ROOT))

from aep_emulator.faults import FaultRule  # noqa: E402
from aep_emulator.testing import RunningEmulator  # noqa: E402
from tests.e2e.harness import VENV_BIN, AirflowCli, epoch  # noqa: E402

PAYMENTS = "aep_payments_batch"
LIFECYCLE = "aep_dataflow_lifecycle"
FLOW_SERVICE = "/data/foundation/flowservice"
IMS_TOKEN = "/ims/token/v3"
#: Every create ``aep_payments_batch`` sends, by the task that sends it.
CREATES: dict[str, str] = {
    "connections": f"{FLOW_SERVICE}/connections",
    "sourceConnections": f"{FLOW_SERVICE}/sourceConnections",
    "schemas": "/data/foundation/schemaregistry/tenant/schemas",
    "dataSets": "/data/foundation/catalog/dataSets",
    "targetConnections": f"{FLOW_SERVICE}/targetConnections",
    "mappingSets": "/data/foundation/conversion/mappingSets",
    "flows": f"{FLOW_SERVICE}/flows",
    "runs": f"{FLOW_SERVICE}/runs",
}
#: The create and the read the status rows hit: the dataflow create and the flow spec look-up.
CREATE_RULE = {"method": "POST", "path": f"^{CREATES['flows']}$"}
READ_RULE = {"method": "GET", "path": f"^{FLOW_SERVICE}/flowSpecs$"}
#: A sensor poll (``GET /runs/{id}``): as many as the run takes, not a retry.
POLL = re.compile(rf"^{FLOW_SERVICE}/runs/[^/]+$")
#: Resource kinds counted in the emulator after each row, with their column labels.
KINDS: dict[str, str] = {
    "connections": "conn",
    "sourceConnections": "src",
    "targetConnections": "tgt",
    "flows": "flow",
    "dataSets": "ds",
    "schemas": "sch",
    "mappingSets": "map",
    "runs": "runs",
}
#: What a run without any fault leaves, per DAG (``runs``: on-demand runs only; AEP's own initial
#: run of a new ``once`` dataflow is not counted). The lifecycle DAG deletes its dataflow, source
#: connection and account as teardown tasks, and makes a second mapping set for its update.
EXPECTED: dict[str, dict[str, int]] = {
    PAYMENTS: dict.fromkeys(KINDS, 1),
    LIFECYCLE: {**dict.fromkeys(KINDS, 1), "connections": 0, "sourceConnections": 0, "flows": 0},
}
EXPECTED[LIFECYCLE]["mappingSets"] = 2
Expect = Literal["baseline", "recover", "fail"]


@dataclass(frozen=True)
class Row:
    """One fault and what it should do.

    :param key: short id (``--only`` matches it).
    :param fault: what is injected, in words (Markdown).
    :param expect: ``baseline`` (no fault), ``recover`` or ``fail``.
    :param rules: the emulator fault rules (``POST /__emulator__/faults``).
    :param dag_id: the DAG to run.
    :param extras: extras added to the ``aep_default`` connection (``timeout``).
    :param config: emulator runtime config (``token_lifetime_seconds``).
    :param expire_every: expire every token this often (seconds) while the DAG runs.
    :param per_try: requests on the faulted endpoint one try of the failing task may send (``fail``
        rows): 1, or what the provider documents (a stale etag is read again and the PATCH repeated
        once).
    """

    key: str
    fault: str
    expect: Expect
    rules: tuple[dict[str, Any], ...] = ()
    dag_id: str = PAYMENTS
    extras: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    expire_every: float | None = None
    per_try: int = 1


def short(path: str) -> str:
    """A rule path as the table shows it: no anchors, no ``/data/foundation`` prefix."""
    return path.strip("^$").replace("/data/foundation/", "").replace("[^/]+", "{id}")


def rule(base: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    return {**base, **fields}


def status_rows(status: int, expect: Expect, times: int, **fields: Any) -> list[Row]:
    """A status on the dataflow create and on the flow spec read."""
    extra = "".join(f", `{name}` {value}" for name, value in fields.items())
    count = "always" if times >= 100 else ("once" if times == 1 else f"{times} times")
    return [
        Row(
            f"{status}-{what}",
            f"`{status}` {count} on `{base['method']} {short(base['path'])}`{extra}",
            expect,
            (rule(base, status=status, times=times, **fields),),
        )
        for what, base in (("create", CREATE_RULE), ("read", READ_RULE))
    ]


def all_rows() -> list[Row]:
    """The whole matrix, in table order."""
    rows = [Row("baseline", "none", "baseline")]
    rows += status_rows(429, "recover", 2, retry_after=1)
    for status in (500, 502, 503, 504):
        rows += status_rows(status, "recover", 2)
    for what, base in (("create", CREATE_RULE), ("read", READ_RULE)):
        rows.append(
            Row(
                f"drop-{what}",
                f"connection dropped before AEP acted, once, on `{base['method']} {short(base['path'])}`",
                "recover",
                (rule(base, drop_connection=True),),
            )
        )
    for what, base in (("create", CREATE_RULE), ("read", READ_RULE)):
        rows.append(
            Row(
                f"slow-{what}",
                f"answer 4 s late (`delay_ms` 4000), client `timeout` 2 s, once, "
                f"on `{base['method']} {short(base['path'])}`",
                "recover",
                (rule(base, delay_ms=4000),),
                extras={"timeout": 2},
            )
        )
    for kind, path in CREATES.items():
        base = {"method": "POST", "path": f"^{path}$"}
        rows.append(
            Row(
                f"lost502-{kind}",
                f"lost answer: applied, then `502` once, on `POST {short(path)}`",
                "recover",
                (rule(base, after_commit=True, status=502),),
            )
        )
        rows.append(
            Row(
                f"lostdrop-{kind}",
                f"lost answer: applied, then connection dropped once, on `POST {short(path)}`",
                "recover",
                (rule(base, after_commit=True, drop_connection=True),),
            )
        )
    rows.append(
        Row(
            "slow-commit",
            "every create applied 3 s after it arrives (`create_latency_seconds` 3), client `timeout` 2 s",
            "recover",
            config={"create_latency_seconds": 3},
            extras={"timeout": 2},
        )
    )
    rows += [
        Row(
            "expire-tokens",
            "every token expired every second while the DAG runs (`POST /__emulator__/tokens/expire`)",
            "recover",
            expire_every=1.0,
        ),
        Row(
            "token-lifetime",
            "IMS tokens live 3 s (`token_lifetime_seconds` 3)",
            "recover",
            config={"token_lifetime_seconds": 3},
        ),
        Row(
            "401-create",
            f"`401` once on `POST {short(CREATES['flows'])}` (token refused)",
            "recover",
            (rule(CREATE_RULE, status=401),),
        ),
        Row(
            "503-ims",
            f"`503` 2 times on `POST {IMS_TOKEN}` (IMS)",
            "recover",
            ({"method": "POST", "path": IMS_TOKEN, "status": 503, "times": 2},),
        ),
        Row("lifecycle-baseline", "none (lifecycle DAG)", "baseline", dag_id=LIFECYCLE),
    ]
    patch_flow = {"method": "PATCH", "path": f"^{FLOW_SERVICE}/flows/[^/]+$"}
    rows += [
        Row(
            "412-once",
            "stale etag: `412` once on `PATCH flowservice/flows/{id}` (lifecycle DAG)",
            "recover",
            (rule(patch_flow, status=412),),
            dag_id=LIFECYCLE,
        ),
        Row(
            "412-always",
            "stale etag: `412` always on `PATCH flowservice/flows/{id}` (lifecycle DAG)",
            "fail",
            (rule(patch_flow, status=412, times=1000),),
            dag_id=LIFECYCLE,
            per_try=2,
        ),
    ]
    # A redirect is never followed (the token must not travel elsewhere) and never a success.
    rows += status_rows(307, "fail", 1000, location="https://elsewhere.example.com/moved")
    for status in (400, 403, 404):
        rows += status_rows(status, "fail", 1000)
    return rows


@dataclass
class TaskReport:
    """One task of the DAG run: its final state, how many tries, the error of each failed try."""

    task_id: str
    state: str
    tries: int
    errors: list[str] = field(default_factory=list)


@dataclass
class RowResult:
    """What one row measured."""

    row: Row
    state: str = "not run"
    seconds: float = 0.0
    run_seconds: float | None = None
    tasks: list[TaskReport] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def failed_tasks(self) -> list[TaskReport]:
        return [task for task in self.tasks if task.state == "failed"]

    @property
    def retried_tasks(self) -> list[TaskReport]:
        return [task for task in self.tasks if task.tries > 1 or task.errors]

    def count(self, predicate: Callable[[dict[str, Any]], bool]) -> int:
        return sum(1 for request in self.requests if predicate(request))

    @property
    def token_requests(self) -> int:
        return self.count(lambda r: r["path"] == IMS_TOKEN)

    @property
    def unauthorized(self) -> int:
        """Platform requests answered ``401`` (an expired token: the hook renews it and repeats once)."""
        return self.count(lambda r: r["status"] == 401 and r["path"] != IMS_TOKEN)

    @property
    def posts(self) -> int:
        return self.count(lambda r: r["method"] == "POST" and r["path"] != IMS_TOKEN)

    @property
    def gets(self) -> int:
        return self.count(lambda r: r["method"] == "GET")

    @property
    def polls(self) -> int:
        return self.count(lambda r: r["method"] == "GET" and POLL.match(r["path"]) is not None)

    @property
    def on_faulted_endpoint(self) -> int:
        """Requests that match a rule of the row (method and path), faulted or not."""
        matchers = [FaultRule.from_json({**raw, "times": 1}) for raw in self.row.rules]
        return self.count(lambda r: any(m.matches(r["method"], r["path"]) for m in matchers))

    @property
    def verdict(self) -> str:
        return "ok" if not self.findings else "**" + "; ".join(self.findings) + "**"


def judge(result: RowResult) -> None:
    """Compare a row with what its fault should do; each difference is a finding."""
    row = result.row
    if row.expect in ("baseline", "recover"):
        if result.state != "success":
            result.findings.append(f"DAG run {result.state}")
        for kind, wanted in EXPECTED[row.dag_id].items():
            got = result.resources.get(kind, 0)
            if got > wanted:
                result.findings.append(f"duplicate {kind} ({got})")
            elif got < wanted and result.state == "success":
                result.findings.append(f"missing {kind} ({got})")
        return
    if result.state == "success":
        result.findings.append("succeeded but should have failed")
        return
    tries = sum(task.tries for task in result.failed_tasks)
    hits = result.on_faulted_endpoint
    if hits > max(tries, 1) * row.per_try:
        result.findings.append(f"retry storm: {hits} requests on the faulted endpoint in {tries} tries")


# -- running one row ------------------------------------------------------------------------------


def connection_env(emulator: RunningEmulator, extras: Mapping[str, Any]) -> dict[str, str]:
    """The emulator's ``AIRFLOW_CONN_*`` variables, ``extras`` added to ``aep_default``'s extra."""
    env = emulator.conn_env()
    if extras:
        conn = json.loads(env["AIRFLOW_CONN_AEP_DEFAULT"])
        conn["extra"].update(extras)
        env["AIRFLOW_CONN_AEP_DEFAULT"] = json.dumps(conn)
    return env


class TokenExpirer(threading.Thread):
    """Expires every IMS token the emulator issued, every ``interval`` seconds, until stopped."""

    def __init__(self, emulator: RunningEmulator, interval: float) -> None:
        super().__init__(name="token-expirer", daemon=True)
        self.emulator = emulator
        self.interval = interval
        self.stopped = threading.Event()
        self.expired = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.emulator.expire_tokens()
            self.expired += 1

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def run_dags_test(cli: AirflowCli, dag_id: str, logical_date: str, log_path: Path, timeout: float) -> bool:
    """``airflow dags test`` in its own process group, output to ``log_path``; stopped at ``timeout``.

    :returns: whether it ended by itself (``False``: it was stopped at the timeout).
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "dags", "test", dag_id, logical_date],
            env=cli.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and every process it started (its session's group), SIGTERM then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the group is gone
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader has exited; the rest of its group gets the same signal on the next pass.
    if process.poll() is None:
        process.wait(timeout=10)


EXCEPTION_LINE = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\w*): (?P<msg>.*)$")
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+)")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT")


def task_errors(log_text: str) -> dict[str, list[str]]:
    """The error each failed try ended with, by task: ``Class: message`` (the last exception line)."""
    errors: dict[str, list[str]] = {}
    task = ""
    in_traceback = False
    last = ""
    for line in log_text.splitlines():
        started = TASK_START.search(line)
        if LOG_LINE.match(line):
            if in_traceback and last:
                errors.setdefault(task, []).append(last)
            in_traceback, last = False, ""
            if started:
                task = started.group("task")
            if "Task failed with exception" in line:
                in_traceback = True
            continue
        if in_traceback:
            match = EXCEPTION_LINE.match(line.strip())
            if match:
                last = f"{match.group('cls').rsplit('.', 1)[-1]}: {match.group('msg')}"
    if in_traceback and last:
        errors.setdefault(task, []).append(last)
    return errors


def task_reports(cli: AirflowCli, dag_id: str, log_text: str) -> tuple[str, float | None, list[TaskReport]]:
    """The DAG run's state, how long its tasks took (seconds, first start to last end) and its tasks,
    from Airflow's database and the run's output."""
    runs = cli.dag_runs(dag_id)
    if not runs:
        return "not created", None, []
    run = runs[0]
    with sqlite3.connect(cli.home / "airflow.db") as db:
        # From the first task's start to the last task's end: ``dags test`` dates the DAG run itself
        # at its logical date.
        start, end = db.execute(
            "SELECT MIN(start_date), MAX(end_date) FROM task_instance WHERE dag_id = ? AND run_id = ?",
            (dag_id, run["run_id"]),
        ).fetchone()
        rows = db.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?",
            (dag_id, run["run_id"]),
        ).fetchall()
    errors = task_errors(log_text)
    tasks = [
        TaskReport(str(task_id), str(state or "none"), int(tries or 0), errors.get(str(task_id), []))
        for task_id, state, tries in rows
    ]
    ran = epoch(end) - epoch(start) if start and end else None
    return str(run["state"]), ran, sorted(tasks, key=lambda task: task.task_id)


def resource_counts(state: Mapping[str, Any]) -> dict[str, int]:
    """Resources per kind in the ``prod`` sandbox; ``runs`` counts on-demand runs only."""
    prod = state.get("prod", {})
    counts = {kind: len(prod.get(kind, [])) for kind in KINDS}
    counts["runs"] = sum(1 for run in prod.get("runs", []) if run.get("runKind") == "onDemand")
    return counts


def run_row(row: Row, template: Path, workdir: Path, timeout: float, logical_date: str) -> RowResult:
    """Run one row: fresh emulator, fresh Airflow home (a copy of ``template``), one DAG run."""
    result = RowResult(row)
    home = workdir / row.key
    home.mkdir()
    # Only the database: the template's airflow.cfg names the template's own paths (its database too).
    shutil.copy2(template / "airflow.db", home / "airflow.db")
    with RunningEmulator(run_duration_seconds=1) as emulator:
        if row.config:
            emulator.configure(**row.config)
        if row.rules:
            emulator.add_faults([dict(raw) for raw in row.rules])
        cli = AirflowCli(home, connection_env(emulator, row.extras))
        result.log_path = workdir / f"{row.key}.log"
        expirer = TokenExpirer(emulator, row.expire_every) if row.expire_every else None
        started = time.monotonic()
        if expirer:
            expirer.start()
        try:
            finished = run_dags_test(cli, row.dag_id, logical_date, result.log_path, timeout)
        finally:
            if expirer:
                expirer.stop()
        result.seconds = time.monotonic() - started
        result.requests = emulator.requests()
        result.resources = resource_counts(emulator.state())
    log_text = result.log_path.read_text(errors="replace")
    result.state, result.run_seconds, result.tasks = task_reports(cli, row.dag_id, log_text)
    if not finished:
        result.state = f"stopped after {timeout:.0f} s"
    judge(result)
    return result


def migrated_template(workdir: Path) -> Path:
    """An ``AIRFLOW_HOME`` with a migrated database, copied for each row."""
    template = workdir / "template-home"
    AirflowCli(template, {}).migrate()
    return template


class _HungUpClients(logging.Filter):
    """Drops uvicorn's traceback for a request whose client hung up before the emulator read its body
    (a ``delay_ms`` longer than the client's timeout): expected here, and the row reports it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return type(error).__name__ != "ClientDisconnect"


def run_matrix(
    rows: Sequence[Row],
    workdir: Path,
    timeout: float = 300.0,
    logical_date: str | None = None,
    progress: bool = False,
    jobs: int = 1,
) -> list[RowResult]:
    """Run ``rows`` (each independent: its own emulator, home and ``airflow dags test``), ``jobs`` at a
    time, and return what each measured, in the order of ``rows``.

    Several at a time overlap what rows mostly do, wait: for retry delays (``retry_delay`` 15 s between
    the tries of a failing task), lost answers and back-offs.
    """
    logical_date = logical_date or (date.today() - timedelta(days=3)).isoformat()
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HungUpClients) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_HungUpClients())
    template = migrated_template(workdir)

    def run(index: int, row: Row) -> RowResult:
        if progress:
            print(f"[{index}/{len(rows)}] {row.key}: {row.fault}", file=sys.stderr, flush=True)
        result = run_row(row, template, workdir, timeout, logical_date)
        if progress:
            print(
                f"    {row.key}: {result.state} in {result.seconds:.0f} s, {len(result.requests)} "
                f"requests, verdict {result.verdict}",
                file=sys.stderr,
                flush=True,
            )
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="fault-row") as pool:
        return list(pool.map(run, range(1, len(rows) + 1), rows))


# -- the table ------------------------------------------------------------------------------------


UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def clip(text: str, width: int = 110) -> str:
    """An error message as the table shows it: its head, without ids and the emulator's fault text."""
    text = text.replace("/data/foundation/", "").replace("|", "\\|")
    text = re.sub(r" \(request id [0-9a-f-]+\)", "", text)
    text = re.sub(r" - Injected (gateway )?fault(: Fault injected by the AEP emulator)?", "", text)
    text = UUID.sub("{id}", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def outcome(result: RowResult) -> str:
    """The DAG run state, then each task that failed or was tried again, with its last error."""
    parts = [result.state]
    for task in result.retried_tasks:
        error = f": {clip(task.errors[-1])}" if task.errors else ""
        parts.append(f"`{task.task_id}` {task.state}, {task.tries} tries{error}")
    return "<br>".join(parts)


def markdown_table(results: Iterable[RowResult]) -> str:
    """The matrix as a Markdown table."""
    kinds = "·".join(KINDS.values())
    header = (
        "| fault | expected | outcome (tasks that failed or were tried again: tries, last error) | "
        "requests | IMS tokens (401s) | POST | GET (polls) | on faulted endpoint | "
        f"left: {kinds} | wall (tasks) | verdict |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for result in results:
        counts = "·".join(str(result.resources.get(kind, 0)) for kind in KINDS)
        faulted = str(result.on_faulted_endpoint) if result.row.rules else "-"
        dag = "" if result.row.dag_id == PAYMENTS else " (lifecycle)"
        ran = f" ({result.run_seconds:.0f} s)" if result.run_seconds is not None else ""
        lines.append(
            f"| {result.row.fault} | {result.row.expect}{dag} | {outcome(result)} | "
            f"{len(result.requests)} | {result.token_requests} ({result.unauthorized}) | {result.posts} | "
            f"{result.gets} ({result.polls}) | {faulted} | {counts} | {result.seconds:.0f} s{ran} | "
            f"{result.verdict} |"
        )
    return "\n".join(lines) + "\n"


def select(rows: Sequence[Row], patterns: Sequence[str]) -> list[Row]:
    """The rows whose key matches one of ``patterns`` (shell wildcards); every row when none given."""
    if not patterns:
        return list(rows)
    chosen = [row for row in rows if any(fnmatch.fnmatchcase(row.key, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no row matches {', '.join(patterns)}; see --list")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--only", action="append", default=[], help="row keys (shell wildcards), repeatable")
    parser.add_argument("--list", action="store_true", help="list the row keys and faults, run nothing")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one DAG run may take")
    parser.add_argument("--logs", type=Path, help="keep each row's `airflow dags test` output here")
    parser.add_argument("--jobs", type=int, default=1, help="rows run at a time (each its own processes)")
    args = parser.parse_args(argv)

    rows = select(all_rows(), args.only)
    if args.list:
        for row in rows:
            print(f"{row.key:28} {row.expect:8} {row.dag_id:24} {row.fault}")
        return 0
    with tempfile.TemporaryDirectory(prefix="aep-fault-matrix-") as tmp:
        started = time.monotonic()
        results = run_matrix(rows, Path(tmp), args.timeout, progress=True, jobs=args.jobs)
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for result in results:
                if result.log_path is not None:
                    shutil.copy(result.log_path, args.logs / result.log_path.name)
    table = markdown_table(results)
    print(table)
    bad = [result for result in results if result.findings]
    summary = f"{len(results)} rows in {time.monotonic() - started:.0f} s; {len(bad)} with a finding"
    print(summary + "".join(f"\n  {r.row.key}: {'; '.join(r.findings)}" for r in bad))
    if args.output:
        args.output.write_text(table)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
