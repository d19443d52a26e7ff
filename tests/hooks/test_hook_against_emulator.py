"""AEPHook and AEPAsyncHook against the emulator over real HTTP: tokens, retries, errors, paging, secrecy."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.exceptions import (
    AEPApiError,
    AEPAuthError,
    AEPBadRequestError,
    AEPConfigError,
    AEPNotFoundError,
    AEPRedirectError,
    AEPServerError,
    AEPTransportError,
)
from airflow_provider_aep.hooks._core import TOKENS, RetryPolicy
from airflow_provider_aep.hooks.aep import AEPHook
from airflow_provider_aep.hooks.aep_async import (
    AEPAsyncHook,
    close_shared_clients,
    forget_settings,
    shared_async_client,
)

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=30)
FLOWS = "/data/foundation/flowservice/flows"
IMS = "/ims/token/v3"

PAYPAL_CONNECTION = {
    "name": "PayPal base connection",
    "description": "PayPal",
    "auth": {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {
            "host": "api-m.sandbox.paypal.com",
            "clientId": "pp-id",
            "clientSecret": "pp-secret-value",
        },
    },
    "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
}


@pytest.fixture
def aep(aep_env: RunningEmulator) -> Iterator[RunningEmulator]:
    TOKENS.clear()
    yield aep_env
    TOKENS.clear()


@pytest.fixture
def hook(aep: RunningEmulator) -> Iterator[AEPHook]:
    with AEPHook(retry=FAST) as h:
        yield h


def add_connection(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, conn_id: str, **changes: Any
) -> None:
    """Register ``conn_id``: the emulator's ``aep_default`` with some fields or extras changed."""
    conn = json.loads(emulator.conn_env()["AIRFLOW_CONN_AEP_DEFAULT"])
    extra = {**conn["extra"], **changes.pop("extra", {})}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, **changes, "extra": extra}))


def calls(emulator: RunningEmulator, path: str, method: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["path"].startswith(path) and (method is None or r["method"] == method)
    ]


def test_one_token_serves_every_call_and_every_hook(aep: RunningEmulator, hook: AEPHook) -> None:
    for _ in range(3):
        hook.get("flowservice", "/flows")
    with AEPHook() as other:
        other.get("flowservice", "/connections")
    assert len(calls(aep, IMS)) == 1
    sent = calls(aep, FLOWS)[0]
    assert sent["status"] == 200


def test_token_is_renewed_before_it_expires(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.configure(token_lifetime_seconds=2)
    hook.get("flowservice", "/flows")
    time.sleep(1.9)  # past renew_at (90 % of the lifetime), before expiry
    hook.get("flowservice", "/flows")
    assert len(calls(aep, IMS)) == 2
    assert all(r["status"] == 200 for r in calls(aep, FLOWS))  # renewed early: never refused


def test_a_revoked_token_is_renewed_once_and_the_call_repeated(aep: RunningEmulator, hook: AEPHook) -> None:
    hook.get("flowservice", "/flows")
    aep.expire_tokens()
    assert hook.get("flowservice", "/flows") is not None
    statuses = [r["status"] for r in calls(aep, FLOWS)]
    assert statuses == [200, 401, 200]
    assert len(calls(aep, IMS)) == 2


def test_a_second_401_is_final(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 401, "times": 5}])
    with pytest.raises(AEPAuthError) as info:
        hook.get("flowservice", "/flows")
    assert info.value.status == 401
    assert len(calls(aep, FLOWS)) == 2
    assert len(calls(aep, IMS)) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried(aep: RunningEmulator, hook: AEPHook, status: int) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": status, "times": 2}])
    hook.get("flowservice", "/flows")
    assert [r["status"] for r in calls(aep, FLOWS)] == [status, status, 200]


def test_retry_after_is_honoured(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 429, "times": 1, "retry_after": 1}])
    started = time.monotonic()
    hook.get("flowservice", "/flows")
    assert time.monotonic() - started >= 1.0
    assert [r["status"] for r in calls(aep, FLOWS)] == [429, 200]


def test_retries_are_bounded(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 503, "times": 10}])
    with pytest.raises(AEPServerError):
        hook.get("flowservice", "/flows")
    assert len(calls(aep, FLOWS)) == FAST.max_attempts


@pytest.mark.parametrize(
    ("status", "error"), [(400, AEPBadRequestError), (403, AEPAuthError), (404, AEPNotFoundError)]
)
def test_client_errors_are_not_retried(
    aep: RunningEmulator, hook: AEPHook, status: int, error: type[AEPApiError]
) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": status, "times": 3}])
    with pytest.raises(error):
        hook.get("flowservice", "/flows")
    assert len(calls(aep, FLOWS)) == 1


ELSEWHERE = "https://elsewhere.example.com/moved/flows?sig=c2VjcmV0LXNpZw%3D%3D"
WITH_USERINFO = "https://user:pw-Zq81x@elsewhere.example.com/moved/flows?sig=c2VjcmV0LXNpZw%3D%3D"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_delete_is_an_error_naming_status_and_location(
    aep: RunningEmulator, hook: AEPHook, status: int
) -> None:
    created = hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    path = f"/data/foundation/flowservice/connections/{created['id']}"
    aep.add_faults([{"method": "DELETE", "path": path, "status": status, "location": ELSEWHERE}])
    with pytest.raises(AEPRedirectError) as info:
        hook.delete("flowservice", f"/connections/{created['id']}")
    message = str(info.value)
    assert info.value.status == status
    assert f"answered {status}" in message
    assert "https://elsewhere.example.com/moved/flows" in message
    assert "sig=" not in message  # a signature in the Location's query is not shown
    assert info.value.location == "https://elsewhere.example.com/moved/flows?..."
    assert len(calls(aep, path, "DELETE")) == 1  # neither followed nor retried
    assert len(aep.state()["prod"]["connections"]) == 1


def test_a_redirected_list_is_an_error_not_an_empty_list(aep: RunningEmulator, hook: AEPHook) -> None:
    hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    conns = "/data/foundation/flowservice/connections"
    aep.add_faults([{"method": "GET", "path": conns, "status": 302, "location": WITH_USERINFO}])
    with pytest.raises(
        AEPRedirectError, match=re.escape("302 redirecting to https://elsewhere.example.com/moved/flows?...")
    ) as info:
        list(hook.iter_items("flowservice", "/connections"))
    assert "pw-Zq81x" not in str(info.value) + str(info.value.location)


def test_a_redirected_token_request_is_an_error(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.add_faults([{"method": "POST", "path": IMS, "status": 307, "location": ELSEWHERE}])
    with pytest.raises(AEPRedirectError, match="307"):
        hook.get("flowservice", "/flows")


def test_async_hook_treats_a_redirect_as_an_error(aep: RunningEmulator) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 303, "location": ELSEWHERE}])

    async def main() -> None:
        try:
            await AEPAsyncHook(retry=FAST).get("flowservice", "/flows")
        finally:
            await close_shared_clients()

    with pytest.raises(
        AEPRedirectError, match=re.escape("303 redirecting to https://elsewhere.example.com/moved/flows?...")
    ):
        asyncio.run(main())


def test_flow_service_not_found_body_reaches_the_exception(hook: AEPHook) -> None:
    with pytest.raises(AEPNotFoundError) as info:
        hook.get("flowservice", "/flows/00000000-0000-0000-0000-000000000000")
    assert info.value.code is not None
    assert info.value.code.startswith("FLOW-")
    assert "404" in str(info.value)


def test_a_create_whose_answer_was_lost_is_not_repeated(aep: RunningEmulator, hook: AEPHook) -> None:
    conns = "/data/foundation/flowservice/connections"
    aep.add_faults([{"method": "POST", "path": conns, "status": 503, "after_commit": True}])
    with pytest.raises(AEPServerError):
        hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    assert len(calls(aep, conns, "POST")) == 1
    assert len(aep.state()["prod"]["connections"]) == 1


def test_a_create_refused_with_429_is_repeated(aep: RunningEmulator, hook: AEPHook) -> None:
    conns = "/data/foundation/flowservice/connections"
    aep.add_faults([{"method": "POST", "path": conns, "status": 429, "times": 1}])
    created = hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    assert created["id"]
    assert len(aep.state()["prod"]["connections"]) == 1


def test_a_dropped_connection_is_retried_for_reads_only(aep: RunningEmulator, hook: AEPHook) -> None:
    aep.add_faults([{"method": "GET", "path": FLOWS, "drop_connection": True, "times": 1}])
    hook.get("flowservice", "/flows")
    conns = "/data/foundation/flowservice/connections"
    aep.add_faults([{"method": "POST", "path": conns, "drop_connection": True, "times": 1}])
    with pytest.raises(AEPTransportError):
        hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    created = hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION, idempotent=True)
    assert created["id"]


def test_iter_items_follows_next_links(aep: RunningEmulator, hook: AEPHook) -> None:
    for i in range(5):
        hook.post("flowservice", "/connections", json={**PAYPAL_CONNECTION, "name": f"conn {i}"})
    names = [item["name"] for item in hook.iter_items("flowservice", "/connections", params={"limit": 2})]
    assert sorted(names) == [f"conn {i}" for i in range(5)]
    assert len(calls(aep, "/data/foundation/flowservice/connections", "GET")) == 3


def test_sandbox_is_sent_and_overridable(aep: RunningEmulator, hook: AEPHook) -> None:
    hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION, sandbox="dev")
    assert len(aep.state()["dev"]["connections"]) == 1
    assert aep.state()["prod"]["connections"] == []
    assert [r["sandbox"] for r in calls(aep, "/data/foundation/flowservice/connections")] == ["dev"]


def test_no_secret_in_logs_reprs_or_errors(
    aep: RunningEmulator, hook: AEPHook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 503, "times": 10}])
    errors: list[str] = []
    try:
        hook.get("flowservice", "/flows")
    except AEPApiError as exc:
        errors.append(str(exc) + repr(exc))
    token = hook.access_token()
    ok, message = hook.test_connection()
    assert ok, message
    text = caplog.text + "".join(errors) + repr(hook) + repr(hook.settings) + message
    assert aep.client_secret not in text
    assert token not in text


def test_test_connection_reports_bad_credentials_without_the_secret(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = aep.conn_env()["AIRFLOW_CONN_AEP_DEFAULT"].replace(aep.client_secret, "wrong-secret-123")
    monkeypatch.setenv("AIRFLOW_CONN_AEP_WRONG", conn)
    ok, message = AEPHook("aep_wrong", retry=FAST).test_connection()
    assert not ok
    assert "/ims/token/v3" in message
    assert "wrong-secret-123" not in message


def test_async_hook_shares_one_token_request_between_concurrent_callers(aep: RunningEmulator) -> None:
    async def main() -> list[Any]:
        hook = AEPAsyncHook(retry=FAST)
        try:
            return await asyncio.gather(*(hook.get("flowservice", "/flows") for _ in range(50)))
        finally:
            await close_shared_clients()

    results = asyncio.run(main())
    assert len(results) == 50
    assert len(calls(aep, IMS)) == 1


def test_async_hook_renews_a_revoked_token_and_retries(aep: RunningEmulator) -> None:
    async def main() -> None:
        hook = AEPAsyncHook(retry=FAST)
        try:
            await hook.get("flowservice", "/flows")
            aep.expire_tokens()
            aep.add_faults([{"method": "GET", "path": FLOWS, "status": 503, "times": 1}])
            await hook.get("flowservice", "/flows")
            with pytest.raises(AEPNotFoundError):
                await hook.get_item("flowservice", "/flows/00000000-0000-0000-0000-000000000000")
        finally:
            await close_shared_clients()

    asyncio.run(main())
    statuses = [r["status"] for r in calls(aep, FLOWS)]
    assert statuses[0] == 200
    assert sorted(statuses[1:3]) == [401, 503]
    assert statuses[3] == 200
    assert len(calls(aep, IMS)) == 2


def test_async_hooks_sharing_a_client_each_keep_their_own_timeout(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_connection(aep, monkeypatch, "aep_impatient", extra={"timeout": 0.5})
    add_connection(aep, monkeypatch, "aep_patient", extra={"timeout": 10})
    once = RetryPolicy(max_attempts=1)
    slow = {"method": "GET", "path": FLOWS, "delay_ms": 1500, "times": 1}

    async def main() -> None:
        impatient, patient = (
            AEPAsyncHook("aep_impatient", retry=once),
            AEPAsyncHook("aep_patient", retry=once),
        )
        try:
            await impatient.get("flowservice", "/flows")  # the shared client is made by the 0.5 s hook
            client = shared_async_client()
            aep.add_faults([slow])
            assert await patient.get("flowservice", "/flows") is not None  # 1.5 s < its 10 s
            aep.add_faults([slow])
            with pytest.raises(AEPTransportError, match="ReadTimeout"):
                await impatient.get("flowservice", "/flows")  # 1.5 s > its 0.5 s
            aep.add_faults([slow])
            assert await patient.get("flowservice", "/flows") is not None
            assert shared_async_client() is client  # one connection pool for both
        finally:
            await close_shared_clients()

    asyncio.run(main())


@pytest.fixture
def rotating(aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An ``aep_rotating`` connection whose client secret a test rotates (in the emulator and Airflow)."""
    add_connection(aep, monkeypatch, "aep_rotating")
    yield "aep_rotating"
    forget_settings("aep_rotating")


def rotate_client_secret(aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, conn_id: str) -> None:
    """IMS now refuses the old secret; the Airflow connection holds the new one."""
    monkeypatch.setattr(aep.settings, "client_secret", "rotated-secret-8Kq2")
    add_connection(aep, monkeypatch, conn_id, password="rotated-secret-8Kq2")


def run_async(*steps: Any) -> None:
    async def main() -> None:
        try:
            for step in steps:
                await step()
        finally:
            await close_shared_clients()

    asyncio.run(main())


def test_async_a_401_from_ims_rereads_the_connection_for_a_rotated_secret(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, rotating: str
) -> None:
    hook = AEPAsyncHook(rotating, retry=FAST)
    run_async(lambda: hook.get("flowservice", "/flows"))  # settings cached, token issued
    rotate_client_secret(aep, monkeypatch, rotating)
    TOKENS.clear()  # the token is due for renewal: the next call asks IMS with the cached secret
    run_async(lambda: hook.get("flowservice", "/flows"))
    assert [r["status"] for r in calls(aep, IMS)] == [200, 401, 200]
    assert [r["status"] for r in calls(aep, FLOWS)] == [200, 200]


def test_async_a_401_from_aep_rereads_the_connection_for_a_rotated_secret(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, rotating: str
) -> None:
    hook = AEPAsyncHook(rotating, retry=FAST)
    run_async(lambda: hook.get("flowservice", "/flows"))
    rotate_client_secret(aep, monkeypatch, rotating)
    aep.expire_tokens()  # AEP refuses the token; renewing it with the cached secret fails at IMS
    run_async(lambda: hook.get("flowservice", "/flows"))
    assert [r["status"] for r in calls(aep, IMS)] == [200, 401, 200]
    assert [r["status"] for r in calls(aep, FLOWS)] == [200, 401, 200]


def test_async_a_401_with_unchanged_credentials_is_final_and_not_repeated(
    aep: RunningEmulator, rotating: str
) -> None:
    hook = AEPAsyncHook(rotating, retry=FAST)
    aep.add_faults([{"method": "GET", "path": FLOWS, "status": 401, "times": 5}])
    with pytest.raises(AEPAuthError):
        run_async(lambda: hook.get("flowservice", "/flows"))
    assert len(calls(aep, FLOWS)) == 2  # the first try and the one after a renewed token


USER_AGENT = f"airflow-provider-aep/{version('airflow-provider-aep')}"


def test_every_request_names_the_provider_in_its_user_agent(aep: RunningEmulator, hook: AEPHook) -> None:
    hook.get("flowservice", "/flows")
    hook.post("flowservice", "/connections", json=PAYPAL_CONNECTION)
    aep.expire_tokens()
    list(hook.iter_items("flowservice", "/connections"))  # a 401, a new token, the repeat
    run_async(lambda: AEPAsyncHook(retry=FAST).get("flowservice", "/flows"))
    sent = aep.requests()
    assert {r["path"] for r in sent} >= {IMS, FLOWS, "/data/foundation/flowservice/connections"}
    assert {r["method"] for r in sent} == {"GET", "POST"}
    assert [r for r in sent if r["user_agent"] != USER_AGENT] == []


def test_the_user_agent_is_computed_on_first_use_not_at_import() -> None:
    code = (
        "import airflow_provider_aep.hooks.aep, airflow_provider_aep.hooks.aep_async\n"
        "from airflow_provider_aep.hooks._core import user_agent\n"
        "print(user_agent.cache_info().misses)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def _connection_with(aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, raw_extra: Any) -> None:
    conn = json.loads(aep.conn_env()["AIRFLOW_CONN_AEP_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_AEP_MALFORMED", json.dumps({**conn, "extra": raw_extra}))


def _emulator_extra(aep: RunningEmulator, **changes: Any) -> dict[str, Any]:
    extra: dict[str, Any] = json.loads(aep.conn_env()["AIRFLOW_CONN_AEP_DEFAULT"])["extra"]
    return {**extra, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"org_id": 12345}, "extra org_id"),
        ({"org_id": ["0123456789ABCDEF@AdobeOrg"]}, "extra org_id"),
        ({"sandbox": "dev sandbox!"}, "extra sandbox"),
        ({"sandbox": "dev/../prod"}, "extra sandbox"),
        ({"sandbox": 7}, "extra sandbox"),
        ({"scopes": 42}, "extra scopes"),
        ({"scopes": {"openid": True}}, "extra scopes"),
        ({"scopes": ["openid", 3]}, "extra scopes"),
        ({"ims_url": "not a url"}, "extra ims_url"),
        ({"ims_url": "ftp://ims-na1.adobelogin.com"}, "extra ims_url"),
        ({"ims_url": 443}, "extra ims_url"),
        ({"timeout": "soon"}, "extra timeout"),
        ({"timeout": 0}, "extra timeout"),
        ({"max_attempts": 0}, "extra max_attempts"),
        ({"max_attempts": 2.5}, "extra max_attempts"),
        ({"max_elapsed": "forever"}, "extra max_elapsed"),
    ],
)
def test_a_malformed_extra_fails_naming_the_field_before_any_call(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], field: str
) -> None:
    _connection_with(aep, monkeypatch, _emulator_extra(aep, **changes))
    with pytest.raises(AEPConfigError, match=re.escape(f"Airflow connection 'aep_malformed': {field}: must")):
        AEPHook("aep_malformed", retry=FAST).get("flowservice", "/flows")
    with pytest.raises(AEPConfigError, match=re.escape(f"{field}: must")):
        run_async(lambda: AEPAsyncHook("aep_malformed", retry=FAST).get("flowservice", "/flows"))
    assert aep.requests() == []


@pytest.mark.parametrize("raw_extra", ["not json {", "[1, 2]", '"a string"'])
def test_an_extra_that_is_not_a_json_object_fails_naming_it(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch, raw_extra: str
) -> None:
    _connection_with(aep, monkeypatch, raw_extra)
    with pytest.raises(AEPConfigError, match=re.escape("Airflow connection 'aep_malformed': extra: must be")):
        AEPHook("aep_malformed", retry=FAST).get("flowservice", "/flows")
    assert aep.requests() == []


def test_a_bad_sandbox_override_fails_before_any_call(aep: RunningEmulator) -> None:
    with pytest.raises(AEPConfigError, match="sandbox: must be a sandbox name"):
        AEPHook(sandbox="Dev Sandbox", retry=FAST).get("flowservice", "/flows")
    with AEPHook(retry=FAST) as hook, pytest.raises(AEPConfigError, match="sandbox: must be a sandbox name"):
        hook.get("flowservice", "/flows", sandbox="dev?x=1")
    assert aep.requests() == []


def test_well_formed_extras_in_every_accepted_form_work(
    aep: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = _emulator_extra(aep, sandbox="DEV", scopes=["openid", "AdobeID"], timeout="30", max_attempts="3")
    _connection_with(aep, monkeypatch, extra)
    with AEPHook("aep_malformed") as hook:
        hook.get("flowservice", "/flows")
        assert hook.settings.sandbox == "dev"
        assert hook.settings.scopes == "openid,AdobeID"
        assert hook.settings.timeout == 30.0
        assert hook.settings.retry.max_attempts == 3
    assert [r["sandbox"] for r in calls(aep, FLOWS)] == ["dev"]
