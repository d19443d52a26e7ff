"""Concurrent ensures converge: overlapping DAG runs set up the same resources and end with one of each.

AEP's creates take time (the emulator's ``create_latency_seconds``), Flow Service, Catalog and Data Prep
accept a second resource with the same name, so tasks that look up, miss and create at the same moment
each create one. Every task must still return the same ids, and no duplicate may remain.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.operators import AEPCreateDatasetOperator
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
