"""Source secrets never reach logs, XCom, rendered fields or errors; UI links; cheap imports."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_aep.emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPBadRequestError
from airflow_provider_aep.links import AEPDataflowLink, AEPDatasetLink, AEPFlowRunLink, AEPSchemaLink
from airflow_provider_aep.operators import AEPCreateBaseConnectionOperator, AEPCreateDataflowOperator
from tests.operators.helpers import make_context

SECRET = "source-secret-Zq81x"


@pytest.fixture
def secret_source(aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    conn = {"conn_type": "generic", "login": "client", "password": SECRET, "extra": {"subdomain": "mc-sub"}}
    monkeypatch.setenv("AIRFLOW_CONN_SECRET_SOURCE", json.dumps(conn))
    return aep


def account(**kwargs: Any) -> AEPCreateBaseConnectionOperator:
    return AEPCreateBaseConnectionOperator(
        task_id="account",
        name="{{ params.account }}",
        source="salesforce_marketing_cloud_aws",
        source_conn_id="secret_source",
        **kwargs,
    )


def test_the_secret_reaches_aep_but_no_log_xcom_or_rendered_field(
    secret_source: RunningEmulator, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    operator = account()
    context: Any = {**make_context(), "params": {"account": "SFMC on AWS"}}
    with caplog.at_level(logging.DEBUG):
        operator.render_template_fields(context)
        operator.execute(context)
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Created base connection 'SFMC on AWS'" in logged  # the logs were captured
    assert SECRET not in logged
    assert SECRET not in json.dumps(context["ti"].pushed)
    rendered = {name: getattr(operator, name) for name in operator.template_fields}
    assert rendered["name"] == "SFMC on AWS"
    assert SECRET not in json.dumps(rendered, default=str)
    stored = secret_source.state()["prod"]["connections"][0]
    assert stored["auth"]["params"]["subdomain"] == "mc-sub"
    assert stored["auth"]["params"]["clientSecret"] != SECRET  # AEP keeps it, and masks it when read


def test_an_aep_error_quoting_the_secret_is_redacted(secret_source: RunningEmulator) -> None:
    body = {"title": "Invalid credentials", "detail": f"clientSecret {SECRET} was refused", "status": 400}
    secret_source.add_faults(
        [
            {
                "method": "POST",
                "path": "^/data/foundation/flowservice/connections$",
                "status": 400,
                "body": body,
            }
        ]
    )
    with pytest.raises(AEPBadRequestError) as raised:
        account().execute(make_context())  # type: ignore[arg-type]
    assert "was refused" in str(raised.value)
    assert SECRET not in str(raised.value) + str(raised.value.detail) + json.dumps(raised.value.body)


@pytest.mark.parametrize(
    ("link", "xcom", "route"),
    [
        (AEPDataflowLink(), {"flow_id": "f-1"}, "source/dataflows/f-1"),
        (AEPFlowRunLink(), {"flow_id": "f-1", "flow_run_id": "r-2"}, "source/dataflows/f-1/runs/r-2"),
        (AEPDatasetLink(), {"dataset_id": "d-3"}, "dataset/browse/d-3"),
        (
            AEPSchemaLink(),
            {"schema_id": "https://ns.adobe.com/t/schemas/9"},
            "schema/edit/https%3A%2F%2Fns.adobe.com%2Ft%2Fschemas%2F9",
        ),
    ],
)
def test_links_point_at_the_resource_in_the_aep_ui(
    monkeypatch: pytest.MonkeyPatch, link: Any, xcom: dict[str, str], route: str
) -> None:
    from airflow.sdk.execution_time import xcom as xcom_module

    extra = {"org_id": "ACME@AdobeOrg", "sandbox": "prod", "ui_url": "http://127.0.0.1:9999/"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_AEP_UI", json.dumps({"conn_type": "aep", "login": "c", "password": "s", "extra": extra})
    )
    monkeypatch.setattr(xcom_module.XCom, "get_value", classmethod(lambda cls, *, ti_key, key: xcom.get(key)))
    operator = AEPCreateDataflowOperator(
        task_id="flow",
        name="n",
        flow_spec_id="x",
        source_connection_ids="s",
        target_connection_ids="t",
        aep_conn_id="aep_ui",
        sandbox="Dev",
    )
    url = link.get_link(operator, ti_key=None)
    assert url == f"http://127.0.0.1:9999/#/@ACME@AdobeOrg/sname:dev/platform/{route}"
    monkeypatch.setattr(xcom_module.XCom, "get_value", classmethod(lambda cls, *, ti_key, key: None))
    assert link.get_link(operator, ti_key=None) == ""  # no id pushed: no link


def test_importing_one_operator_imports_only_its_module() -> None:
    code = (
        "import sys, time, airflow.sdk\n"
        "start = time.perf_counter()\n"
        "from airflow_provider_aep.operators import AEPCreateDataflowOperator\n"
        "elapsed = time.perf_counter() - start\n"
        "loaded = [m for m in sys.modules if m.startswith('airflow_provider_aep')]\n"
        "print(elapsed); print(' '.join(sorted(loaded)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    elapsed, loaded = float(out[0]), set(out[1].split())
    assert "airflow_provider_aep.operators.flow_service" in loaded
    for heavy in (
        "models.flows",
        "models.connections",
        "hooks.aep",
        "operators.catalog",
        "operators.data_prep",
    ):
        assert f"airflow_provider_aep.{heavy}" not in loaded
    assert elapsed < 0.5, f"importing an operator took {elapsed:.3f} s"
