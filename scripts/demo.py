"""``make demo``: every tutorial DAG, end to end, with real Airflow against the offline AEP emulator.

It starts the emulator, points a throwaway Airflow (``.demo/airflow-home``, embedded SQLite) at it with
the ``AIRFLOW_CONN_*`` variables ``aep-emulator env`` prints, runs each example DAG with
``airflow dags test``, and prints what each run created, reused, ran and ingested, and how many API
calls it made. Exit status 1 if any DAG run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = REPO_ROOT / "example_dags"
VENV_BIN = Path(sys.executable).parent
RESOURCE_KINDS = (
    "connections",
    "sourceConnections",
    "targetConnections",
    "schemas",
    "classes",
    "dataSets",
    "mappingSets",
    "flows",
)


@dataclass(frozen=True)
class DemoRun:
    """One ``airflow dags test`` of the demo.

    :param dag_id: the example DAG.
    :param days_ago: its logical date, in days before today (the emulator's sample data covers ~400 days).
    :param conf: trigger params (what the UI's trigger form would send).
    :param note: why this run is in the demo.
    """

    dag_id: str
    days_ago: int
    conf: dict[str, Any] = field(default_factory=dict)
    note: str = ""


DEMO_RUNS = (
    DemoRun("aep_shopify_streaming", 1, note="seed 000: streaming inlet, one sample order"),
    DemoRun("aep_payments_batch", 3, note="seeds 001/002: first daily window"),
    DemoRun("aep_payments_batch", 2, note="next window: setup reused, one more flow run"),
    DemoRun("aep_payments_adhoc_schema", 2, note="seed 004: ad-hoc class and schema"),
    DemoRun("aep_salesforce_marketing_cloud", 1, {"platform": "azure"}, "seed 003 on Azure"),
    DemoRun("aep_salesforce_marketing_cloud", 1, {"platform": "aws"}, "seed 003 on AWS"),
    DemoRun("aep_dataflow_lifecycle", 1, note="seed 000 appendix: monitor, update, delete"),
)


@dataclass
class DemoResult:
    """What one DAG run did, measured from the emulator and Airflow's database."""

    run: DemoRun
    logical_date: str
    state: str = "not run"
    seconds: float = 0.0
    created: int = 0
    reused: int = 0
    new_resources: Counter[str] = field(default_factory=Counter)
    deleted_resources: Counter[str] = field(default_factory=Counter)
    flow_runs: list[str] = field(default_factory=list)
    records: int = 0
    failed_rows: int | None = None
    api_calls: int = 0
    log_path: Path | None = None


def airflow_env(home: Path, conn_env: dict[str, str]) -> dict[str, str]:
    """A clean environment for Airflow: throwaway home, the example DAGs, the emulator's connections."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(conn_env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def resources_by_id(state: dict[str, Any], sandbox: str) -> dict[str, str]:
    """Every resource id in one sandbox of the emulator's state, mapped to its kind."""
    kinds = state.get(sandbox, {})
    found: dict[str, str] = {}
    for kind in RESOURCE_KINDS:
        for item in kinds.get(kind, []):
            resource_id = item.get("id") or item.get("$id")
            if resource_id:
                found[str(resource_id)] = kind
    return found


class FlowRunReader:
    """Reads flow runs through the emulator's Flow Service API, as AEP shows them (status, record counts).

    :param emulator: the running emulator (its URL and credentials).
    :param sandbox: the sandbox the DAGs work in.
    """

    def __init__(self, emulator: Any, sandbox: str) -> None:
        import httpx

        token = httpx.post(
            f"{emulator.url}/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "scope": "openid,AdobeID,read_organizations",
            },
            timeout=10.0,
        ).json()["access_token"]
        self.client = httpx.Client(
            base_url=f"{emulator.url}/data/foundation/flowservice",
            headers={
                "Authorization": f"Bearer {token}",
                "x-api-key": emulator.client_id,
                "x-gw-ims-org-id": emulator.org_id,
                "x-sandbox-name": sandbox,
            },
            timeout=10.0,
        )

    def run(self, run_id: str) -> dict[str, Any]:
        """``GET /runs/{id}``: the run's first item."""
        response = self.client.get(f"/runs/{run_id}")
        response.raise_for_status()
        item: dict[str, Any] = response.json()["items"][0]
        return item


def output_records(flow_run: dict[str, Any]) -> int:
    """Records a flow run wrote to its dataset (``metrics.recordSummary.outputRecordCount``)."""
    summary = flow_run.get("metrics", {}).get("recordSummary", {})
    return int(summary.get("outputRecordCount") or 0)


def latest_dag_run_xcoms(db_path: Path, dag_id: str) -> tuple[str, str, dict[str, list[Any]]]:
    """The latest run of ``dag_id``: its run id, state, and the ``created`` and ``run_report`` XComs
    its tasks pushed (each key: the list of values, one per task)."""
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        if row is None:
            return "", "not run", {}
        run_id, state = str(row[0]), str(row[1])
        rows = db.execute(
            "SELECT key, value FROM xcom WHERE dag_id = ? AND run_id = ? AND key IN (?, ?)",
            (dag_id, run_id, "created", "run_report"),
        ).fetchall()
    values: dict[str, list[Any]] = {}
    for key, value in rows:
        values.setdefault(str(key), []).append(json.loads(value) if isinstance(value, str) else value)
    return run_id, state, values


def run_one(
    run: DemoRun, env: dict[str, str], home: Path, emulator: Any, reader: FlowRunReader, logs: Path
) -> DemoResult:
    """Run one DAG with ``airflow dags test`` and measure what it did."""
    logical_date = (date.today() - timedelta(days=run.days_ago)).isoformat()
    result = DemoResult(run=run, logical_date=logical_date)
    sandbox = reader.client.headers["x-sandbox-name"]
    before = emulator.state()
    records_before = {
        item["id"]: output_records(reader.run(item["id"])) for item in before.get(sandbox, {}).get("runs", [])
    }
    calls_before = len(emulator.requests())  # after this script's own reads
    command = [str(VENV_BIN / "airflow"), "dags", "test", run.dag_id, logical_date]
    if run.conf:
        command += ["-c", json.dumps(run.conf)]
    label = "-".join([run.dag_id, logical_date, *map(str, run.conf.values())])
    result.log_path = logs / f"{label}.log"
    started = time.monotonic()
    with result.log_path.open("w") as log:
        subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False, timeout=600)
    result.seconds = time.monotonic() - started

    after = emulator.state()
    # Counted before this script's own reads below.
    result.api_calls = len(emulator.requests()) - calls_before
    old, new = resources_by_id(before, sandbox), resources_by_id(after, sandbox)
    result.new_resources = Counter(kind for rid, kind in new.items() if rid not in old)
    result.deleted_resources = Counter(kind for rid, kind in old.items() if rid not in new)
    for stored in after.get(sandbox, {}).get("runs", []):
        flow_run = reader.run(stored["id"])
        # A streaming flow keeps one run whose counts grow: count what this DAG run added to it.
        earlier = records_before.get(flow_run["id"])
        records = output_records(flow_run)
        if earlier is not None and records == earlier:
            continue
        result.flow_runs.append(str(flow_run.get("metrics", {}).get("statusSummary", {}).get("status", "?")))
        result.records += records - (earlier or 0)
    _, result.state, xcoms = latest_dag_run_xcoms(home / "airflow.db", run.dag_id)
    flags = [bool(flag) for flag in xcoms.get("created", [])]
    result.created = sum(flags)
    result.reused = len(flags) - result.created
    reports = [report for report in xcoms.get("run_report", []) if isinstance(report, dict)]
    if reports:  # the run reports of the DAG run's waits: rows AEP dropped
        result.failed_rows = sum(int(report.get("records", {}).get("failed") or 0) for report in reports)
    return result


def print_summary(results: list[DemoResult]) -> None:
    """The table the demo ends with."""
    header = (
        "DAG",
        "date",
        "state",
        "created",
        "reused",
        "flow runs",
        "records",
        "failed rows",
        "API calls",
        "time",
    )
    rows = [header]
    for result in results:
        conf = ",".join(str(value) for value in result.run.conf.values())
        name = f"{result.run.dag_id}({conf})" if conf else result.run.dag_id
        statuses = Counter(result.flow_runs)
        flow_runs = ", ".join(f"{count} {status}" for status, count in statuses.items()) or "-"
        deleted = sum(result.deleted_resources.values())
        created = f"{result.created}" + (f" (-{deleted} deleted)" if deleted else "")
        rows.append(
            (
                name,
                result.logical_date,
                result.state,
                created,
                str(result.reused),
                flow_runs,
                str(result.records),
                "-" if result.failed_rows is None else str(result.failed_rows),
                str(result.api_calls),
                f"{result.seconds:.0f} s",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--home", type=Path, default=REPO_ROOT / ".demo" / "airflow-home")
    parser.add_argument("--only", action="append", default=[], help="run only this DAG id (repeatable)")
    parser.add_argument("--run-duration", type=float, default=2.0, help="emulated seconds per flow run")
    args = parser.parse_args(argv)

    from aep_emulator.testing import RunningEmulator

    if args.home.exists():
        shutil.rmtree(args.home)
    args.home.mkdir(parents=True)
    logs = args.home.parent / "logs"
    logs.mkdir(exist_ok=True)
    runs = [run for run in DEMO_RUNS if not args.only or run.dag_id in args.only]
    results: list[DemoResult] = []
    with RunningEmulator(run_duration_seconds=args.run_duration) as emulator:
        sandbox = "prod"
        env = airflow_env(args.home, emulator.conn_env(sandbox=sandbox))
        reader = FlowRunReader(emulator, sandbox)
        print(f"AEP emulator on {emulator.url}; AIRFLOW_HOME={args.home}")
        print("airflow db migrate ...", flush=True)
        subprocess.run(
            [str(VENV_BIN / "airflow"), "db", "migrate"],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        for run in runs:
            print(f"airflow dags test {run.dag_id} {run.conf or ''}  # {run.note}", flush=True)
            result = run_one(run, env, args.home, emulator, reader, logs)
            print(f"  -> {result.state} in {result.seconds:.0f} s (log: {result.log_path})", flush=True)
            results.append(result)
    print()
    print_summary(results)
    failed = [result for result in results if result.state != "success"]
    if failed:
        print(f"\n{len(failed)} DAG run(s) failed: see the logs above.")
        return 1
    print(f"\nAll {len(results)} DAG runs succeeded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
