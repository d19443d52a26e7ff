"""What one ``AEPFlowRunSensor.poke()`` costs next to the bare HTTP call it makes.

Starts ``aep-emulator serve`` in its own process (runs last ``--run-duration``, a day by default, so
the run stays in progress and every poke is a full "still waiting" look), points ``aep_default`` at it
with an ``AIRFLOW_CONN_AEP_DEFAULT`` variable (as ``aep-emulator env`` prints it), creates the seed 001
PayPal dataflow and one on-demand run through the hook, then times, in the same run and interleaved
(``--rounds`` rounds of ``--calls`` calls each way):

* ``sensor``: ``AEPFlowRunSensor(flow_run_id=...).poke(context)``, the real sensor with the context
  the task runner gives it (a task instance that takes XComs, the task, the data interval): it reads
  the run (``GET /runs/{id}``), interprets it, notes its progress and pushes ``flow_run_id`` and
  ``flow_id``;
* ``AEPHook.get_item``: the hook call the sensor makes, on a hook reused across calls;
* ``bare httpx``: ``httpx.Client.get`` of the same URL with the same headers (token included) and a
  client reused across calls, the answer parsed as JSON.

Prints the median time per call of each way over the rounds, their ratio (the goal is at most 1.2x)
and each way's CPU time per call in this process (the emulator's is not counted).

    python benchmarks/sensor_poke.py [--calls 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from typing import Any

import httpx
from emulator_process import HOST, free_port, running_emulator
from paypal_dataflow import DAY, DELTA_COLUMN, create_paypal_dataflow

from aep_emulator.settings import EmulatorSettings, airflow_connection_env

# The sensor's progress lines would drown the table.
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")

SENSOR = "AEPFlowRunSensor.poke() (GET /runs/{id})"
BARE = "bare httpx.Client.get, reused client"


def create_run(hook: Any) -> str:
    """A new seed 001 PayPal dataflow (``paypal_dataflow``) and one on-demand run of it over yesterday."""
    from airflow_provider_aep.models.responses import created_id

    flow = create_paypal_dataflow(hook, "bench")
    end = int(time.time()) // DAY * DAY
    params = {"startTime": int(time.time()), "windowStartTime": end - DAY, "windowEndTime": end}
    body = {"flowId": flow, "params": {**params, "deltaColumn": DELTA_COLUMN}}
    return created_id(hook.post("flowservice", "/runs", json=body))


class TaskInstance:
    """What the sensor uses of the task runner's task instance: it takes XComs."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}
        self.pushes = 0

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value
        self.pushes += 1


def task_context(task: Any) -> dict[str, Any]:
    end = datetime.datetime.now(tz=datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "ti": TaskInstance(),
        "task": task,
        "data_interval_start": end - datetime.timedelta(days=1),
        "data_interval_end": end,
    }


def timed(calls: int, call: Any) -> tuple[float, float]:
    """Seconds per call, wall and CPU (this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call()
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls each way per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each way in turn")
    parser.add_argument("--run-duration", type=float, default=DAY, help="seconds an emulated run lasts")
    args = parser.parse_args()

    settings = EmulatorSettings(host=HOST, port=free_port(), run_duration_seconds=args.run_duration)
    with running_emulator(settings) as emulator:
        os.environ.update(airflow_connection_env(emulator.url, settings))
        from airflow_provider_aep.hooks._core import Call
        from airflow_provider_aep.hooks.aep import AEPHook
        from airflow_provider_aep.sensors.flow_run import AEPFlowRunSensor

        hook = AEPHook()
        run_id = create_run(hook)
        sensor = AEPFlowRunSensor(task_id="wait", flow_run_id=run_id, deferrable=False)
        context: Any = task_context(sensor)

        path = f"/runs/{run_id}"
        request = Call(hook.settings, "GET", hook.settings.url("flowservice", path)).request_args(
            hook.access_token()
        )
        url, headers = request["url"], request["headers"]

        def poke() -> None:
            if sensor.poke(context) is not False:
                raise RuntimeError("the run ended during the benchmark: raise --run-duration")

        def hook_call() -> None:
            hook.get_item("flowservice", path)

        with httpx.Client(timeout=request["timeout"]) as client:

            def bare() -> None:
                answer = client.get(url, headers=headers)
                answer.raise_for_status()
                answer.json()

            ways = {
                SENSOR: poke,
                "AEPHook.get_item, reused hook": hook_call,
                BARE: bare,
            }
            times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
            for call in ways.values():  # first calls: imports, token, connection, TCP connect
                call()
            load = os.getloadavg()
            for _ in range(args.rounds):
                for way, call in ways.items():
                    times[way].append(timed(args.calls, call))

    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    print(f"{args.rounds} rounds of {args.calls} calls each way, interleaved; emulator in its own process")
    print(f"{'way':<42} {'ms per call':>12} {'CPU ms per call':>16} {'ratio to bare (wall, CPU)':>26}")
    medians = {
        way: (statistics.median(wall for wall, _ in runs), statistics.median(cpu for _, cpu in runs))
        for way, runs in times.items()
    }
    bare_wall, bare_cpu = medians[BARE]
    for way, (wall, cpu) in medians.items():
        ratios = f"{wall / bare_wall:.2f}x, {cpu / bare_cpu:.2f}x"
        print(f"{way:<42} {wall * 1000:>12.3f} {cpu * 1000:>16.3f} {ratios:>26}")
    pokes = 1 + args.rounds * args.calls
    print(f"XCom pushes: {context['ti'].pushes} in {pokes:,} pokes (flow_run_id and flow_id, once each)")
    print(f"sensor poke / bare httpx: {medians[SENSOR][0] / bare_wall:.2f}x wall (goal <= 1.2x)")


if __name__ == "__main__":
    main()
