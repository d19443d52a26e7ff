"""Every example DAG parses cleanly, the way the scheduler parses it, and does no work at parse time."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest

from aep_emulator.testing import RunningEmulator

from .harness import ASSET_SCHEDULED_DAG_IDS, DAGS_FOLDER, EXAMPLE_DAG_IDS

EXPECTED_DAG_IDS = set(EXAMPLE_DAG_IDS)


def _parse_dags(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[tuple[str, Any]]]:
    """Parse ``example_dags/`` with a DagBag, recording every attempt to open a network connection."""
    from airflow.dag_processing.dagbag import DagBag

    connections: list[tuple[str, Any]] = []
    real_connect = socket.socket.connect

    def recording_connect(self: socket.socket, address: Any) -> Any:
        connections.append(("connect", address))
        return real_connect(self, address)

    # Airflow puts the DAGs folder on sys.path (DAG files import ``_common`` from it).
    monkeypatch.syspath_prepend(str(DAGS_FOLDER))
    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    dagbag = DagBag(dag_folder=str(DAGS_FOLDER))
    monkeypatch.undo()
    return dagbag, connections


@pytest.fixture(scope="module")
def parsed(emulator_server: RunningEmulator) -> tuple[Any, list[tuple[str, Any]], list[dict[str, Any]]]:
    """The DagBag, the connections parsing tried to open, and the requests the emulator saw meanwhile."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in emulator_server.conn_env().items():
            monkeypatch.setenv(name, value)
        emulator_server.reset()
        dagbag, connections = _parse_dags(monkeypatch)
        return dagbag, connections, emulator_server.requests()


def test_every_example_dag_imports_with_its_fixed_id(parsed: tuple[Any, Any, Any]) -> None:
    dagbag, _, _ = parsed
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED_DAG_IDS


def test_parsing_makes_no_request(parsed: tuple[Any, Any, Any]) -> None:
    _, connections, requests = parsed
    assert requests == [], "parsing the DAGs called AEP"
    assert connections == [], "parsing the DAGs opened network connections"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAG_IDS))
def test_trigger_form_is_self_explanatory(parsed: tuple[Any, Any, Any], dag_id: str) -> None:
    dagbag, _, _ = parsed
    dag = dagbag.dags[dag_id]
    params = dag.params
    if dag_id not in ASSET_SCHEDULED_DAG_IDS:
        assert {"sandbox", "name_prefix"} <= set(params.keys())
    for name in params:
        param = params.get_param(name)
        assert param.description, f"{dag_id}: param {name!r} has no description"
        param.resolve()  # the default validates against its own schema
    assert "aep" in dag.tags
    assert "tutorial" in (dag.doc_md or "").lower()


def test_scheduled_dags_have_daily_data_intervals(parsed: tuple[Any, Any, Any]) -> None:
    """A flow run's window is the data interval: it must be a real day, not an instant."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    dagbag, _, _ = parsed
    for dag_id in ("aep_payments_batch", "aep_payments_adhoc_schema"):
        dag = dagbag.dags[dag_id]
        timetable = coerce_to_core_timetable(dag.timetable)
        interval = timetable.infer_manual_data_interval(
            run_after=pendulum.instance(dag.start_date).add(days=3)
        )
        assert (interval.end - interval.start).total_seconds() == 86400, dag_id
        assert dag.catchup is False


def test_credentials_come_from_airflow_connections(parsed: tuple[Any, Any, Any]) -> None:
    dagbag, _, _ = parsed
    for dag_id in EXPECTED_DAG_IDS:
        for task in dagbag.dags[dag_id].tasks:
            if task.task_type == "AEPCreateBaseConnectionOperator":
                assert task.source_conn_id in ("paypal_default", "sfmc_default"), (dag_id, task.task_id)


#: Context keys a DAG run triggered without a logical date (CLI, REST API, trigger form) does not have.
LOGICAL_DATE_ONLY = re.compile(
    r"\b(data_interval_\w+|logical_date|execution_date|ds|ds_nodash|ts|ts_nodash|ts_nodash_with_tz"
    r"|prev_\w+|next_\w+)\b"
)


def template_strings(value: Any) -> Iterator[str]:
    """The Jinja templates in a templated field's value (strings, in nested dicts and lists)."""
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from template_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from template_strings(item)


def test_templates_render_without_a_logical_date(parsed: tuple[Any, Any, Any]) -> None:
    """No template reads what a run triggered without a logical date lacks (``data_interval_*``...)."""
    dagbag, _, _ = parsed
    offending = [
        (dag_id, task.task_id, field, template)
        for dag_id in EXPECTED_DAG_IDS
        for task in dagbag.dags[dag_id].tasks
        for field in task.template_fields
        for template in template_strings(getattr(task, field, None))
        if LOGICAL_DATE_ONLY.search(template)
    ]
    assert offending == []
    templated = [
        template
        for task in dagbag.dags["aep_payments_batch"].tasks
        for field in task.template_fields
        for template in template_strings(getattr(task, field, None))
    ]
    assert any("dag_run.run_after" in template for template in templated), "nothing was inspected"
