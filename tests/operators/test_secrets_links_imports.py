"""Source secrets never reach logs, XCom, rendered fields or errors; UI links; cheap imports."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from typing import Any

import pytest

from aep_emulator import specs
from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import AEPBadRequestError, AEPConfigError, AEPError
from airflow_provider_aep.links import AEPDataflowLink, AEPDatasetLink, AEPFlowRunLink, AEPSchemaLink
from airflow_provider_aep.operators import (
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPGetBaseConnectionOperator,
    AEPUpdateBaseConnectionOperator,
)
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


# A blob storage source whose auth spec uses every kind of secret the one rule knows.
BLOB_SPEC_ID = "d771e9c1-4f26-40dc-8617-ce58c4b53702"
BLOB_AUTH = "Blob Storage Authentication"
BLOB_SECRETS = {
    "connectionString": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Q29ubktleQ-Zq81x==",
    "sasUri": "https://acct.blob.core.windows.net/raw?sv=2022-11-02&ss=b&sig=UriSig%2BZq81x",
    "sasToken": "sv=2022-11-02&ss=b&srt=co&sig=TokenSig%2BZq81x",
    "accountPin": "pin-7731-Zq81x",  # a neutral name: secret because the auth spec says password
    "endpoint": "https://acct.blob.core.windows.net/?sv=2022-11-02&sig=EndpointSig%2BZq81x",  # a SAS value
}
BLOB_SPEC = {
    "id": BLOB_SPEC_ID,
    "name": "Azure Blob Storage",
    "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
    "version": "1.0",
    "attributes": {"category": "Cloud Storage", "isSource": True},
    "authSpec": [
        {
            "name": BLOB_AUTH,
            "type": BLOB_AUTH,
            "spec": {
                "type": "object",
                "properties": {
                    "connectionString": {"type": "string", "format": "password"},
                    "sasUri": {"type": "string", "format": "password"},
                    "sasToken": {"type": "string"},
                    "accountPin": {"type": "string", "format": "password"},
                    "endpoint": {"type": "string"},
                    "container": {"type": "string"},
                },
                "required": ["connectionString"],
            },
        }
    ],
}
BLOB_FIELDS = {name: f"extra.{name}" for name in (*BLOB_SECRETS, "container")}


@pytest.fixture
def blob_source(aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The emulator serves the blob connection spec; ``blob_source`` holds the secrets; returns what
    was registered with Airflow's secret masker."""
    monkeypatch.setitem(specs._CONNECTION_SPECS_BY_ID, BLOB_SPEC_ID, BLOB_SPEC)
    conn = {"conn_type": "generic", "extra": {**BLOB_SECRETS, "container": "raw"}}
    monkeypatch.setenv("AIRFLOW_CONN_BLOB_SOURCE", json.dumps(conn))
    import airflow.sdk.log

    masked: list[str] = []
    original = airflow.sdk.log.mask_secret

    def recording_mask_secret(secret: Any, name: str | None = None) -> None:
        masked.append(str(secret))
        original(secret, name)

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", recording_mask_secret)
    return masked


def blob_account(**kwargs: Any) -> AEPCreateBaseConnectionOperator:
    options: dict[str, Any] = {
        "task_id": "blob",
        "name": "{{ params.account }}",
        "source_conn_id": "blob_source",
        "connection_spec_id": BLOB_SPEC_ID,
        "auth_spec_name": BLOB_AUTH,
        "credential_fields": BLOB_FIELDS,
        **kwargs,
    }
    return AEPCreateBaseConnectionOperator(**options)


def assert_no_blob_secret(text: str) -> None:
    leaked = [name for name, value in BLOB_SECRETS.items() if value in text]
    assert not leaked, f"leaked: {leaked}"


def test_the_emulator_keeps_no_credential_of_any_kind(aep: RunningEmulator, blob_source: list[str]) -> None:
    """Names like connectionString/sasUri, the auth spec's password params and SAS values are masked
    in what the emulator stores and answers, as the provider masks them on its side."""
    context: Any = {**make_context(), "params": {"account": "Blob account"}}
    operator = blob_account()
    operator.render_template_fields(context)
    connection_id = operator.execute(context)
    assert_no_blob_secret(json.dumps(aep.state()))
    (stored_connection,) = [c for c in aep.state()["prod"]["connections"] if c["id"] == connection_id]
    stored = stored_connection["auth"]["params"]
    assert {name: stored[name] for name in BLOB_SECRETS} == dict.fromkeys(BLOB_SECRETS, "****")
    assert stored["container"] == "raw"


def test_every_kind_of_secret_is_masked_and_kept_from_logs_xcom_and_rendered_fields(
    blob_source: list[str], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    operator = blob_account()
    context: Any = {**make_context(), "params": {"account": "Blob account"}}
    with caplog.at_level(logging.DEBUG):
        operator.render_template_fields(context)
        connection_id = operator.execute(context)
        got = AEPGetBaseConnectionOperator(task_id="get", base_connection_id=connection_id)
        got_context: Any = make_context()
        account = got.execute(got_context)
    assert sorted(set(blob_source) & set(BLOB_SECRETS.values())) == sorted(BLOB_SECRETS.values())
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Created base connection 'Blob account'" in logged
    assert_no_blob_secret(logged)
    assert_no_blob_secret(json.dumps([context["ti"].pushed, got_context["ti"].pushed, account]))
    rendered = {name: getattr(operator, name) for name in operator.template_fields}
    assert_no_blob_secret(json.dumps(rendered, default=str))
    assert account["auth"]["params"]["container"] == "raw"  # plain settings stay readable
    assert set(account["auth"]["params"]) == {*BLOB_SECRETS, "container"}


def test_an_aep_error_quoting_any_kind_of_secret_is_redacted(
    blob_source: list[str], aep: RunningEmulator
) -> None:
    quoted = " / ".join(BLOB_SECRETS.values())
    body = {"title": "Invalid credentials", "detail": f"refused: {quoted}", "status": 400}
    connections = "^/data/foundation/flowservice/connections"
    aep.add_faults([{"method": "POST", "path": connections + "$", "status": 400, "body": body}])
    with pytest.raises(AEPBadRequestError) as raised:
        blob_account(name="Blob account").execute(make_context())  # type: ignore[arg-type]
    error = raised.value
    assert "refused" in str(error)
    assert_no_blob_secret(str(error) + repr(error) + str(error.detail) + json.dumps(error.body))
    base_id = blob_account(name="Blob account").execute(make_context())  # type: ignore[arg-type]
    aep.add_faults([{"method": "PATCH", "path": connections + "/", "status": 400, "body": body}])
    rotate = AEPUpdateBaseConnectionOperator(
        task_id="rotate",
        base_connection_id=base_id,
        source_conn_id="blob_source",
        credential_fields=BLOB_FIELDS,
    )
    with pytest.raises(AEPBadRequestError) as raised:
        rotate.execute(make_context())  # type: ignore[arg-type]
    error = raised.value
    assert_no_blob_secret(str(error) + repr(error) + str(error.detail) + json.dumps(error.body))


@pytest.mark.parametrize("name", ["sasUri", "sasToken", "connectionString", "endpoint"])
def test_a_secret_literal_in_the_dag_is_refused_without_showing_it(name: str) -> None:
    with pytest.raises(AEPConfigError, match=re.escape(f"auth_params.{name}: is a secret")) as raised:
        blob_account(name="Blob account", auth_params={name: BLOB_SECRETS[name]})
    assert_no_blob_secret(str(raised.value))
    path = f"/auth/params/{name}"
    with pytest.raises(AEPConfigError, match=r"operations\[0\]") as raised:
        AEPUpdateBaseConnectionOperator(
            task_id="rotate",
            base_connection_id="b",
            operations=[{"op": "replace", "path": path, "value": BLOB_SECRETS[name]}],
        )
    assert_no_blob_secret(str(raised.value))


def test_a_literal_for_a_password_param_of_the_auth_spec_is_refused_before_the_create(
    blob_source: list[str], aep: RunningEmulator
) -> None:
    operator = blob_account(name="Blob account", auth_params={"accountPin": BLOB_SECRETS["accountPin"]})
    with pytest.raises(AEPError, match=re.escape("auth_params.accountPin: is a secret")) as raised:
        operator.execute(make_context())  # type: ignore[arg-type]
    assert_no_blob_secret(str(raised.value))
    assert not [r for r in aep.requests() if r["method"] == "POST" and r["path"].endswith("/connections")]


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
    asked: list[str] = []
    monkeypatch.setattr(
        xcom_module.XCom, "get_value", classmethod(lambda cls, *, ti_key, key: asked.append(key))
    )
    operator = AEPCreateDataflowOperator(
        task_id="flow",
        name="n",
        flow_spec_id="x",
        source_connection_ids="s",
        target_connection_ids="t",
        aep_conn_id="aep_ui",
        sandbox="Dev",
    )
    assert link.get_link(operator, ti_key=None) == ""  # nothing pushed yet: no link
    operator.push(make_context(), {**xcom, "etag": '"1"'})  # type: ignore[arg-type]  # as every operator does
    url = link.get_link(operator, ti_key=None)
    assert url == f"http://127.0.0.1:9999/#/@ACME@AdobeOrg/sname:dev/platform/{route}"
    assert asked == [], "a link asked XCom for a key: Airflow logs 'XCom not found' when it is absent"


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
