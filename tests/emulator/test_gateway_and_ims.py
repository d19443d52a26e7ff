"""Adobe IMS and the Platform gateway: tokens, expiry, headers and their exact error bodies."""

from __future__ import annotations

import httpx

from aep_emulator.testing import RunningEmulator

from .platform import FLOW, PlatformClient

TOKEN_FORM = {"grant_type": "client_credentials", "scope": "openid,AdobeID"}


def _token(raw_http: httpx.Client, emulator: RunningEmulator, secret: str) -> httpx.Response:
    return raw_http.post(
        "/ims/token/v3", data={**TOKEN_FORM, "client_id": emulator.client_id, "client_secret": secret}
    )


def test_ims_issues_bearer_tokens_with_a_lifetime(raw_http: httpx.Client, emulator: RunningEmulator) -> None:
    answer = _token(raw_http, emulator, emulator.client_secret)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["access_token"]


def test_ims_rejects_a_wrong_secret_like_ims(raw_http: httpx.Client, emulator: RunningEmulator) -> None:
    answer = _token(raw_http, emulator, "not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "error_description" in answer.json()


def test_ims_rejects_an_unknown_client_and_grant(raw_http: httpx.Client, emulator: RunningEmulator) -> None:
    unknown = raw_http.post("/ims/token/v3", data={**TOKEN_FORM, "client_id": "who", "client_secret": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_client"
    grant = raw_http.post("/ims/token/v3", data={"grant_type": "password", "client_id": emulator.client_id})
    assert grant.json()["error"] == "unsupported_grant_type"


def test_gateway_error_codes_for_missing_headers(aep: PlatformClient, raw_http: httpx.Client) -> None:
    full = aep.headers()
    cases = {
        "Authorization": (403, "403010"),
        "x-api-key": (403, "403000"),
        "x-gw-ims-org-id": (400, "400003"),
    }
    for header, (status, code) in cases.items():
        headers = {key: value for key, value in full.items() if key != header}
        answer = raw_http.get(f"{FLOW}/flows", headers=headers)
        assert answer.status_code == status, header
        assert answer.json() == {"error_code": code, "message": answer.json()["message"]}
        assert answer.headers["x-request-id"]


def test_missing_and_unknown_sandbox_use_flow_service_codes(
    aep: PlatformClient, raw_http: httpx.Client
) -> None:
    headers = {key: value for key, value in aep.headers().items() if key != "x-sandbox-name"}
    missing = raw_http.get(f"{FLOW}/flows", headers=headers)
    assert missing.status_code == 400
    assert missing.json()["type"].endswith("FLOW-2105-400")
    unknown = raw_http.get(f"{FLOW}/flows", headers={**headers, "x-sandbox-name": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("FLOW-2100-404")
    assert unknown.json()["report"]["request-id"] == unknown.headers["x-request-id"]


def test_expired_and_revoked_tokens_answer_401013(aep: PlatformClient, emulator: RunningEmulator) -> None:
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200
    emulator.expire_tokens()
    revoked = aep.request("GET", f"{FLOW}/flows")
    assert revoked.status_code == 401
    assert revoked.json() == {"error_code": "401013", "message": "Oauth token is not valid"}
    aep.token = aep.fetch_token()
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200
    emulator.advance_clock(86400)
    assert aep.request("GET", f"{FLOW}/flows").json()["error_code"] == "401013"


def test_token_lifetime_is_configurable(aep: PlatformClient, emulator: RunningEmulator) -> None:
    emulator.configure(token_lifetime_seconds=60)
    aep.token = aep.fetch_token()
    emulator.advance_clock(59)
    assert aep.request("GET", f"{FLOW}/flows").status_code == 200
    emulator.advance_clock(2)
    assert aep.request("GET", f"{FLOW}/flows").status_code == 401


def test_bodies_need_json_content_type(aep: PlatformClient) -> None:
    """Adobe's troubleshooting page: a 400 ``BadRequestError`` with a problem-details body."""
    answer = aep.http.post(
        f"{FLOW}/connections", content=b'{"name": "x"}', headers=aep.headers(**{"Content-Type": "text/plain"})
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }


def test_a_wrong_api_key_or_org_is_refused(aep: PlatformClient, raw_http: httpx.Client) -> None:
    wrong_key = raw_http.get(f"{FLOW}/flows", headers={**aep.headers(), "x-api-key": "someone-else"})
    assert wrong_key.json()["error_code"] == "403003"
    wrong_org = raw_http.get(f"{FLOW}/flows", headers={**aep.headers(), "x-gw-ims-org-id": "OTHER@AdobeOrg"})
    assert wrong_org.status_code == 403


def test_sandboxes_are_isolated(
    aep: PlatformClient, emulator: RunningEmulator, batch_setup: dict[str, str]
) -> None:
    with PlatformClient(emulator, sandbox="dev") as dev:
        assert dev.request("GET", f"{FLOW}/connections").json()["items"] == []
        assert dev.request("GET", f"{FLOW}/connections/{batch_setup['base']}").status_code == 404
    assert len(aep.request("GET", f"{FLOW}/connections").json()["items"]) == 1
