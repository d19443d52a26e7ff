"""The emulator's request recorder: what it writes, what it never writes, and appends from many processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from aep_emulator.recording import RECORD_ENV, RequestRecorder, append_line, record_requests
from aep_emulator.testing import RunningEmulator

SECRET = "s3cret-Zq81x"


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_without_the_variable_nothing_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None: ...

    monkeypatch.delenv(RECORD_ENV, raising=False)
    assert record_requests(app) is app
    monkeypatch.setenv(RECORD_ENV, "/tmp/requests.jsonl")
    assert isinstance(record_requests(app), RequestRecorder)


def test_platform_requests_are_recorded_without_headers_or_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_file = tmp_path / "requests.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(record_file))
    with RunningEmulator() as emulator, httpx.Client(base_url=emulator.url) as http:
        token = http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "scope": "openid",
            },
        ).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": emulator.client_id,
            "x-gw-ims-org-id": emulator.org_id,
            "x-sandbox-name": "prod",
            "User-Agent": "airflow-provider-aep/9.9",
        }
        body = {
            "name": "PayPal",
            "auth": {
                "specName": "Client-Id-Secret Based Authentication",
                "params": {"host": "h", "clientId": "c", "clientSecret": SECRET},
            },
            "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
        }
        created = http.post("/data/foundation/flowservice/connections", json=body, headers=headers)
        assert created.status_code == 201, created.text
        http.get("/data/foundation/flowservice/flows", params={"property": "name==a b"}, headers=headers)
        http.get(
            "/data/foundation/schemaregistry/tenant/schemas/https%3A%2F%2Fns.adobe.com%2Fx", headers=headers
        )
        emulator.health()
    text = record_file.read_text(encoding="utf-8")
    assert SECRET not in text
    assert token not in text
    assert emulator.client_secret not in text
    create, listing, lookup = _records(record_file)  # no IMS, no admin call
    assert create["method"] == "POST"
    assert create["path"] == "/data/foundation/flowservice/connections"
    assert create["body"]["auth"]["params"] == {"host": "h", "clientId": "c", "clientSecret": "<redacted>"}
    assert create["body_is_json"] is True
    assert create["content_type"] == "application/json"
    assert create["user_agent"] == "airflow-provider-aep/9.9"
    assert listing["query"] == [["property", "name==a b"]]
    assert listing["body"] is None
    assert lookup["path"].endswith("/tenant/schemas/https%3A%2F%2Fns.adobe.com%2Fx")  # as sent
    assert set(create) == {
        "time",
        "pid",
        "method",
        "path",
        "query",
        "content_type",
        "user_agent",
        "body",
        "body_is_json",
        "body_bytes",
    }


def test_a_body_that_is_not_json_or_too_deep_is_recorded_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_file = tmp_path / "requests.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(record_file))
    with RunningEmulator() as emulator, httpx.Client(base_url=emulator.url) as http:
        http.post("/data/foundation/flowservice/flows", content=b"{not json")
        answer = http.post("/data/foundation/flowservice/flows", content=b"[" * 5000 + b"]" * 5000)
        assert answer.status_code < 500
    broken, deep = _records(record_file)
    assert (broken["body"], broken["body_is_json"], broken["body_bytes"]) == (None, False, 9)
    assert (deep["body"], deep["body_is_json"], deep["body_bytes"]) == (None, False, 10000)


def test_lines_from_many_processes_never_interleave(tmp_path: Path) -> None:
    record_file = tmp_path / "requests.jsonl"
    writer = (
        "import sys\n"
        "from aep_emulator.recording import append_line\n"
        "for index in range(200):\n"
        "    append_line(sys.argv[1], {'writer': sys.argv[2], 'index': index, 'pad': 'x' * 70000})\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(record_file), str(number)]) for number in range(3)
    ]
    append_line(str(record_file), {"writer": "test", "index": 0, "pad": ""})
    assert [process.wait(timeout=120) for process in writers] == [0, 0, 0]
    records = _records(record_file)
    assert len(records) == 601
    for number in range(3):
        assert [r["index"] for r in records if r["writer"] == str(number)] == list(range(200))
