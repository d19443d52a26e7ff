"""What the provider adds to a DAG file's parse time, on top of ``import airflow.sdk``.

Run: ``.venv/bin/python benchmarks/import_time.py`` (or ``make bench``).

Each sample is a fresh interpreter that first imports ``airflow.sdk`` (which every Airflow 3 DAG
file does), then imports what an example DAG imports from this provider, timed with
``time.perf_counter``. The median of the samples is reported, with ``python -X importtime``'s own
cumulative figure for the provider's top modules from one more run.

Before timing, one ``gc.collect()`` pays the garbage collection that importing ``airflow.sdk``
leaves owed (otherwise it falls, about 100 ms of it, on whichever provider import comes next).
The provider's byte-code is compiled first, as installing a wheel does: an editable install under
``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every provider module again in each sample
and measure the compiler, not the imports.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
from pathlib import Path

SAMPLES = 9
BUDGET_MS = 50.0

DAG_IMPORTS = """
from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator, AEPCreateDataflowOperator, AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator, AEPCreateSchemaOperator, AEPCreateSourceConnectionOperator,
    AEPCreateTargetConnectionOperator, AEPGetFlowSpecOperator,
)
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.building_blocks import run_and_wait, source_to_dataset
from airflow_provider_aep.sources import source_preset
"""

TIMED = f"""
import gc
import time
import airflow.sdk
gc.collect()  # the full collection airflow.sdk's own import leaves owed is not the provider's cost
started = time.perf_counter()
{DAG_IMPORTS}
print((time.perf_counter() - started) * 1000)
"""


def sample() -> float:
    out = subprocess.run([sys.executable, "-c", TIMED], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def importtime_breakdown() -> list[tuple[int, str]]:
    code = "import gc\nimport airflow.sdk\ngc.collect()\n" + DAG_IMPORTS
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    rows: list[tuple[int, str]] = []
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].lstrip().startswith("airflow_provider_aep") and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2]))
    return sorted(rows, reverse=True)[:8]


def compile_provider() -> None:
    """Write the provider's byte-code (``__pycache__``), whatever ``PYTHONDONTWRITEBYTECODE`` says."""
    package = Path(__file__).resolve().parents[1] / "airflow_provider_aep"
    compileall.compile_dir(str(package), quiet=1)


def main() -> int:
    compile_provider()
    sample()  # warm the file system cache
    samples = [sample() for _ in range(SAMPLES)]
    median = statistics.median(samples)
    print(f"provider imports on top of airflow.sdk: median {median:.1f} ms over {SAMPLES} runs")
    print(f"  (min {min(samples):.1f} ms, max {max(samples):.1f} ms, budget {BUDGET_MS:.0f} ms)")
    print("largest provider modules by -X importtime cumulative microseconds:")
    for micros, name in importtime_breakdown():
        print(f"  {micros:>8} us  {name.strip()}")
    return 0 if median <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
