"""A source's client secret never shows in a repr, a str, a dump or a validation error."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from aep_emulator.specs import CONNECTION_SPECS
from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models.connections import BaseConnection
from airflow_provider_aep.models.secret_params import (
    is_secret_name,
    looks_like_sas_token,
    password_params,
    secret_strings,
    without_secrets,
)
from airflow_provider_aep.models.validation import describe_errors, validate_request

SECRET = "s3cr3t-Value-0042"
PAYPAL = {
    "name": "PayPal base connection",
    "auth": {
        "specName": "Client-Id-Secret Based Authentication",
        "params": {"host": "api-m.paypal.com", "clientId": "paypal-client", "clientSecret": SECRET},
    },
    "connectionSpec": {"id": "221c7626-58f6-4eec-8ee2-042b0226f03b", "version": "1.0"},
}
SFMC_AWS = {
    "name": "SFMC on AWS",
    "auth": {
        "specName": "OAuth2 Client Credential",
        "params": {"subdomain": "mc563885gzs27c5t9", "clientId": "3a1b2c3d", "clientSecret": SECRET},
    },
    "connectionSpec": {"id": "ea1c2a08-b722-11eb-8529-0242ac130003", "version": "1.0"},
}
GENERIC = {
    "name": "Azure Blob",
    "auth": {
        "specName": "ConnectionString",
        "params": {
            "connectionString": SECRET,
            "nested": {"sasToken": SECRET + "-sas"},
            "sasUri": "https://acct.blob.core.windows.net/c?" + SECRET,
            "endpoint": f"https://acct.blob.core.windows.net/c?sv=2022-11-02&sig={SECRET}",
            "region": "emea",
        },
    },
    "connectionSpec": {"id": "d771e9c1-4f26-40dc-8617-ce58c4b53702", "version": "1.0"},
}


def _shown_forms(connection: BaseConnection) -> list[str]:
    return [
        repr(connection),
        str(connection),
        repr(connection.auth),
        json.dumps(connection.model_dump(mode="json")),
        connection.model_dump_json(),
        str(connection.model_dump()),
    ]


@pytest.mark.parametrize("body", [PAYPAL, SFMC_AWS, GENERIC], ids=["paypal", "sfmc-aws", "generic"])
def test_the_secret_is_masked_everywhere_but_in_the_payload(body: dict[str, Any]) -> None:
    connection = validate_request(BaseConnection, copy.deepcopy(body), "base connection")
    for shown in _shown_forms(connection):
        assert SECRET not in shown
    assert connection.to_payload() == body


def test_generic_auth_keeps_plain_settings_readable() -> None:
    connection = validate_request(BaseConnection, GENERIC, "base connection")
    assert "emea" in repr(connection)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda body: body["auth"]["params"].pop("host"),
        lambda body: body["auth"]["params"].__setitem__("clientSecret", ""),
        lambda body: body["auth"]["params"].__setitem__("clientSecrets", SECRET),
        lambda body: body["auth"].__setitem__("specName", SECRET),
        lambda body: body.__setitem__("name", [SECRET]),
        lambda body: body.__setitem__("connectionSpec", {"id": SECRET, "version": "1.0"}),
    ],
    ids=[
        "missing-host",
        "empty-secret",
        "misspelt-secret-key",
        "secret-as-spec-name",
        "secret-as-name",
        "secret-as-id",
    ],
)
def test_validation_errors_never_echo_the_secret(break_it: Any) -> None:
    body = copy.deepcopy(PAYPAL)
    break_it(body)
    with pytest.raises(AEPConfigError) as error:
        validate_request(BaseConnection, body, "base connection")
    assert str(error.value).startswith("Invalid base connection: ")
    assert SECRET not in str(error.value)
    assert SECRET not in repr(error.value)
    assert error.value.__cause__ is None
    assert error.value.__context__ is None


def test_a_message_that_quotes_a_secret_is_masked() -> None:
    quoting = ValidationError.from_exception_data(
        "BaseConnection",
        [
            InitErrorDetails(
                type=PydanticCustomError("custom", f"bad value {SECRET}"), loc=("name",), input=None
            )
        ],
    )
    message = describe_errors(quoting, "base connection", secrets=[SECRET])
    assert message == "Invalid base connection: name: bad value **********"


@pytest.mark.parametrize(
    "name",
    [
        "clientSecret",
        "password",
        "apiKey",
        "accessKeyId",
        "credentials",
        "connectionString",
        "connection_string",
        "sasUri",
        "sasToken",
        "SASToken",
        "azureSasUri",
        "sas_url",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["host", "clientId", "subdomain", "region", "hasAssets", "container"])
def test_plain_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("sv=2022-11-02&ss=b&srt=co&sp=rl&sig=abc%3D", True),
        ("https://acct.blob.core.windows.net/c?sv=2022-11-02&SIG=abc", True),
        ("?sig=abc", True),
        ("https://acct.blob.core.windows.net/c?design=1", False),
        ("signature-less text", False),
        (42, False),
    ],
)
def test_sas_token_values(value: object, secret: bool) -> None:
    assert looks_like_sas_token(value) is secret


def test_password_params_are_read_from_the_auth_spec_the_emulator_serves() -> None:
    sfmc = next(spec for spec in CONNECTION_SPECS if spec["name"] == "Salesforce Marketing Cloud")
    assert password_params(sfmc, "OAuth2 Client Credential") == {"clientSecret"}
    assert password_params(sfmc, "No such auth") == frozenset()
    nested = {
        "authSpec": [
            {
                "name": "Pin",
                "spec": {
                    "oneOf": [{"properties": {"accountPin": {"type": "string", "format": "password"}}}],
                    "properties": {"host": {"type": "string"}},
                },
            }
        ]
    }
    assert password_params(nested, "Pin") == {"accountPin"}


def test_one_rule_for_masking_and_scrubbing() -> None:
    params = {"accountPin": "1234", "host": "h", "inner": {"sasUri": "u"}, "url": "x?sig=y", "n": 7}
    assert sorted(secret_strings(params, {"accountPin"})) == ["1234", "u", "x?sig=y"]
    assert without_secrets(params, {"accountPin"}) == {
        "accountPin": "***",
        "host": "h",
        "inner": {"sasUri": "***"},
        "url": "***",
        "n": 7,
    }
