"""The README's minimal DAG, copied unchanged into a DAGs folder, parses and runs green against the emulator,
and a successful run logs no error line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_aep.emulator.testing import RunningEmulator
from airflow_provider_aep.sources import CRM_TO_AEP_FLOW_SPEC_ID, PAYPAL_CONNECTION_SPEC_ID

from .conftest import days_ago
from .harness import REPO_ROOT, AirflowCli, epoch

pytestmark = pytest.mark.slow

DAG_ID = "my_paypal_products"


def readme_dag() -> str:
    """The README's one Python block that defines ``my_paypal_products``."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    [block] = [block for block in blocks if f'dag_id="{DAG_ID}"' in block]
    return block


def test_the_readme_minimal_dag_runs_as_written(
    airflow_cli: AirflowCli, emulator: RunningEmulator, tmp_path: Path
) -> None:
    emulator.configure(run_duration_seconds=0)  # a run is over at once: the sensor's first look succeeds
    (tmp_path / f"{DAG_ID}.py").write_text(readme_dag())
    cli = AirflowCli(airflow_cli.home, emulator.conn_env(), AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path))
    logical_date = days_ago(2)
    result = cli.dags_test(DAG_ID, logical_date)
    [run] = cli.dag_runs(DAG_ID)[:1]
    assert run["state"] == "success", result.stdout[-3000:]

    state = emulator.state()["prod"]
    [base] = state["connections"]
    assert base["connectionSpec"]["id"] == PAYPAL_CONNECTION_SPEC_ID  # source="paypal"
    [flow] = state["flows"]
    assert flow["name"] == "My products dataflow"
    assert flow["flowSpec"]["id"] == CRM_TO_AEP_FLOW_SPEC_ID  # looked up by name, CRMToAEP
    assert [t["name"] for t in flow["transformations"]] == ["Copy", "Mapping"]
    [on_demand] = [
        r for r in state["runs"] if r.get("runKind") != "scheduled" and "windowStartTime" in r["params"]
    ]
    midnight = epoch(f"{logical_date}T00:00:00+00:00")
    # "@daily" gives a manual run no data interval: the window rule takes the last full UTC day before it
    assert (int(on_demand["params"]["windowStartTime"]), int(on_demand["params"]["windowEndTime"])) == (
        midnight - 86400,
        midnight,
    )

    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "[error" in line or "XCom not found" in line]
    assert errors == [], "a successful run logged errors"
