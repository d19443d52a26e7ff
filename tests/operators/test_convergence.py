"""Concurrent ensures converge: overlapping DAG runs set up the same resources and end with one of each.

AEP's creates take time (the emulator's ``create_latency_seconds``), Flow Service, Catalog and Data Prep
accept a second resource with the same name, so tasks that look up, miss and create at the same moment
each create one. Every task must still return the same ids, and no duplicate may remain.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aep_emulator.state import Store
from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators import AEPCreateBaseConnectionOperator, AEPCreateDatasetOperator
from tests.operators.helpers import run
from tests.operators.tutorials import Tutorial, payments_batch

TASKS = 6
#: Kinds of which exactly one must remain. Mapping sets are not among them: Adobe documents no DELETE
#: of a mapping set, so one made in a lost race stays (unused; every task returns the same one).
KINDS = ("connections", "sourceConnections", "targetConnections", "flows", "dataSets", "schemas")


def resource_counts(aep: RunningEmulator) -> dict[str, int]:
    state = aep.state()["prod"]
    return {kind: len(state.get(kind) or []) for kind in KINDS}


def test_six_concurrent_payments_setups_leave_one_of_each_resource(aep: RunningEmulator) -> None:
    aep.configure(create_latency_seconds=1.0)
    with ThreadPoolExecutor(max_workers=TASKS) as pool:
        results = list(pool.map(lambda _: payments_batch(Tutorial("001")), range(TASKS)))
    setup_ids = results
    assert all(ids == setup_ids[0] for ids in setup_ids), "every task returns the same resources"
    assert resource_counts(aep) == dict.fromkeys(KINDS, 1)
    (flow,) = aep.state()["prod"]["flows"]
    used = [t["params"]["mappingId"] for t in flow["transformations"] if t["name"] == "Mapping"]
    assert used == [setup_ids[0]["mapping"]]
    creates = [r for r in aep.requests() if r["method"] == "POST" and r["status"] in (200, 201)]
    assert len(creates) > len(KINDS), "the tasks did race: more creates succeeded than resources remain"


def test_a_loser_deletes_only_what_it_created(aep: RunningEmulator) -> None:
    """Two datasets with the same name existed before: neither is deleted, the oldest is used."""
    aep.configure(create_latency_seconds=0.5)
    schema = Tutorial("001").target_schema("Convergence schema")

    def ensure(name: str) -> Any:
        return run(AEPCreateDatasetOperator(task_id="dataset", name=name, schema_id=schema))[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(ensure, ["Shared dataset"] * 4))
    assert len(set(ids)) == 1
    datasets = aep.state()["prod"]["dataSets"]
    assert [d["id"] for d in datasets if d["name"] == "Shared dataset"] == [ids[0]]
    deletes = [r for r in aep.requests() if r["method"] == "DELETE"]
    assert all(ids[0] not in r["path"] for r in deletes), "the winner is never deleted"


@pytest.mark.parametrize("latency", [0.0, 0.3])
def test_reruns_after_a_race_reuse_the_winner(aep: RunningEmulator, latency: float) -> None:
    aep.configure(create_latency_seconds=latency)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = list(pool.map(lambda _: payments_batch(Tutorial("001")), range(3)))
    again = payments_batch(Tutorial("001"))
    assert again == first[0]
    assert resource_counts(aep) == dict.fromkeys(KINDS, 1)


def test_a_create_aep_finishes_after_the_clients_timeout_is_not_made_twice(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault matrix's slow-commit row: the create answer is lost to the client's timeout while AEP is
    still storing it; the task keeps looking instead of sending the create again."""
    schema = Tutorial("001").target_schema("Slow commit schema")
    connection = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    connection["extra"]["timeout"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_AEP_DEFAULT", json.dumps(connection))
    aep.configure(create_latency_seconds=2.0)
    dataset_id = run(
        AEPCreateDatasetOperator(
            task_id="dataset", name="Slow dataset", schema_id=schema, create_retry_delay=0.5
        )
    )[0]
    time.sleep(2.5)  # any create still in flight on the emulator is stored by now
    datasets = [d["id"] for d in aep.state()["prod"]["dataSets"] if d["name"] == "Slow dataset"]
    assert datasets == [dataset_id]
    posts = [r for r in aep.requests() if r["method"] == "POST" and r["path"].endswith("/dataSets")]
    assert len(posts) == 1, "the create was not sent again"


#: The creation times of the race test below come in steps of this many ms: same-millisecond ties
#: (which AEP and the emulator stamp, and show in either order) only more often.
CLOCK_STEP_MS = 10
RACE_ROUNDS = 25
RACERS = 6


def race_rounds(aep: RunningEmulator, collection: str, ensure: Callable[[str], str]) -> list[str]:
    """``RACERS`` tasks ensure one resource at the same instant, ``RACE_ROUNDS`` times (a new name each
    time); every problem found, one line per round."""
    problems = []
    for round_number in range(RACE_ROUNDS):
        name = f"Race {round_number}"
        start = threading.Barrier(RACERS)

        def racer(_: int, name: str = name, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                return ensure(name)
            except Exception as error:  # a failed task is a problem too
                return f"failed: {error}"

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            ids = list(pool.map(racer, range(RACERS)))
        left = [item["id"] for item in aep.resources(collection) if item["name"] == name]
        if len(set(ids)) != 1 or left != ids[:1]:
            problems.append(f"{name}: tasks returned {sorted(set(ids))}, AEP holds {left}")
    return problems


def test_racers_never_use_a_resource_whose_creator_deletes_it(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: creates stamped in the same millisecond show in either order. A task that looked
    in between saw only the later one (or it as the oldest of two) and used it, while its creator saw
    the other, older by id, and deleted it as the loser: the payments setup then failed with
    ``targetConnection <id> was not found``. Tasks now act only on a settled look-up. Before the fix
    about a quarter of these rounds handed some task a deleted resource or left tasks on different
    ones (26 of 100 rounds)."""
    step = CLOCK_STEP_MS
    monkeypatch.setattr(Store, "now_ms", lambda store: int(store.now() * 1000) // step * step)

    def ensure(name: str) -> str:
        operator = AEPCreateBaseConnectionOperator(
            task_id="base_connection",
            name=name,
            source="paypal",
            source_conn_id="paypal_default",
            race_settle_seconds=2 * step / 1000,  # a tie may show up to one step after its twin
        )
        return str(run(operator)[0])

    assert race_rounds(aep, "connections", ensure) == []


@pytest.mark.parametrize("bad", [-0.1, 61, "1", True, float("nan")])
def test_race_settle_seconds_is_checked_before_any_call(aep: RunningEmulator, bad: Any) -> None:
    with pytest.raises(AEPConfigError, match="race_settle_seconds"):
        AEPCreateBaseConnectionOperator(
            task_id="base_connection",
            name="x",
            source="paypal",
            source_conn_id="paypal_default",
            race_settle_seconds=bad,
        )
    assert aep.requests() == []
