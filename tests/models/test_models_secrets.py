"""A source's client secret never shows in a repr, a str, a dump or a validation error."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.models.connections import BaseConnection
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
        "params": {"connectionString": SECRET, "nested": {"sasToken": SECRET + "-sas"}, "region": "emea"},
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
