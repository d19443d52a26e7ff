"""A small test client for the emulator: IMS token, Platform headers and the tutorial's resources."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx

from aep_emulator.testing import RunningEmulator

FLOW = "/data/foundation/flowservice"
CATALOG = "/data/foundation/catalog"
SCHEMAS = "/data/foundation/schemaregistry"
CONVERSION = "/data/foundation/conversion"
PAYPAL_SPEC = "221c7626-58f6-4eec-8ee2-042b0226f03b"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP = "14518937-270c-4525-bdec-c2ba7cce3860"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"


class PlatformClient:
    """Talks to the emulator like a user would: token first, then the four Adobe headers.

    :param emulator: the running emulator.
    :param sandbox: the ``x-sandbox-name`` to send.
    """

    def __init__(self, emulator: RunningEmulator, sandbox: str = "prod") -> None:
        self.emulator = emulator
        self.sandbox = sandbox
        self.http = httpx.Client(base_url=emulator.url, timeout=10.0)
        self.token = self.fetch_token()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.http.close()

    def fetch_token(self) -> str:
        """A new IMS access token for the emulator's default credentials."""
        response = self.http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": self.emulator.client_id,
                "client_secret": self.emulator.client_secret,
                "scope": "openid,AdobeID,read_organizations",
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def headers(self, **extra: str) -> dict[str, str]:
        """The four Platform headers (plus ``extra``)."""
        return {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.emulator.client_id,
            "x-gw-ims-org-id": self.emulator.org_id,
            "x-sandbox-name": self.sandbox,
            **extra,
        }

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        """Send a call with the Platform headers; ``body`` is sent as JSON."""
        headers = self.headers(**kwargs.pop("headers", {}))
        if body is not None:
            return self.http.request(method, path, json=body, headers=headers, **kwargs)
        return self.http.request(method, path, headers=headers, **kwargs)

    def created_id(self, method: str, path: str, body: Any, status: int = 201) -> str:
        """Send a create call, assert its status and return the new id."""
        response = self.request(method, path, body)
        assert response.status_code == status, response.text
        payload = response.json()
        if isinstance(payload, list):
            return str(payload[0]).split("/")[-1]
        return str(payload.get("id") or payload.get("$id"))

    def item(self, path: str) -> dict[str, Any]:
        """``GET`` a Flow Service resource and unwrap ``items[0]``."""
        response = self.request("GET", path)
        assert response.status_code == 200, response.text
        item: dict[str, Any] = response.json()["items"][0]
        return item

    def run_status(self, run_id: str) -> str:
        """The status of a flow run right now."""
        return str(self.item(f"{FLOW}/runs/{run_id}")["metrics"]["statusSummary"]["status"])

    def wait_for_run(self, run_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll a run until it leaves ``scheduled``/``inProgress``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.item(f"{FLOW}/runs/{run_id}")
            if run["metrics"]["statusSummary"]["status"] not in ("scheduled", "inProgress"):
                return run
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} did not finish in {timeout}s")

    def batch_setup(self, title: str = "Target schema for payments") -> dict[str, Any]:
        """Every prerequisite of a PayPal batch flow, created the tutorial's way."""
        base = self.created_id(
            "POST",
            f"{FLOW}/connections",
            {
                "name": "PayPal base connection",
                "auth": {
                    "specName": "Client-Id-Secret Based Authentication",
                    "params": {
                        "host": "api-m.sandbox.paypal.com",
                        "clientId": "pp-client",
                        "clientSecret": "pp-secret",
                    },
                },
                "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
            },
        )
        source = self.created_id(
            "POST",
            f"{FLOW}/sourceConnections",
            {
                "name": "PayPal source connection",
                "baseConnectionId": base,
                "data": {"format": "tabular"},
                "params": {"tableName": "PayPal.Catalog_Products"},
                "connectionSpec": {"id": PAYPAL_SPEC, "version": "1.0"},
            },
        )
        schema = self.created_id(
            "POST",
            f"{SCHEMAS}/tenant/schemas",
            {
                "type": "object",
                "title": title,
                "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
            },
        )
        dataset = self.created_id(
            "POST",
            f"{CATALOG}/dataSets?requestDataSource=true",
            {"name": f"{title} dataset", "schemaRef": {"id": schema, "contentType": XED_FULL}},
        )
        target = self.created_id(
            "POST",
            f"{FLOW}/targetConnections",
            {
                "name": "Target connection",
                "data": {"schema": {"id": schema, "version": XED_FULL}},
                "params": {"dataSetId": dataset},
                "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
            },
        )
        mapping = self.created_id(
            "POST",
            f"{CONVERSION}/mappingSets",
            {
                "version": 0,
                "xdmSchema": schema,
                "xdmVersion": "1.0",
                "mappings": [
                    {"destinationXdmPath": "_id", "sourceAttribute": "Product_Id", "identity": False}
                ],
            },
            status=200,
        )
        return {
            "base": base,
            "source": source,
            "schema": schema,
            "dataset": dataset,
            "target": target,
            "mapping": mapping,
        }

    def flow_body(
        self, setup: dict[str, Any], schedule: dict[str, Any] | None, delta: str = "Update_Time"
    ) -> dict[str, Any]:
        """A CRMToAEP flow body over ``setup`` with the given schedule."""
        body: dict[str, Any] = {
            "name": "Dataflow between payments Platform",
            "flowSpec": {"id": CRM_TO_AEP, "version": "1.0"},
            "sourceConnectionIds": [setup["source"]],
            "targetConnectionIds": [setup["target"]],
            "transformations": [
                {
                    "name": "Copy",
                    "params": {"deltaColumn": {"name": delta, "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}},
                },
                {"name": "Mapping", "params": {"mappingId": setup["mapping"], "mappingVersion": 0}},
            ],
        }
        if schedule is not None:
            body["scheduleParams"] = schedule
        return body

    def once_flow(self, setup: dict[str, Any], start_time: int | None = None) -> str:
        """A flow scheduled ``once`` (Airflow owns the schedule), starting far in the future."""
        start = start_time if start_time is not None else int(time.time()) + 10 * 365 * 86400
        return self.created_id(
            "POST", f"{FLOW}/flows", self.flow_body(setup, {"startTime": start, "frequency": "once"})
        )
