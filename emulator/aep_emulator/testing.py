"""Run the emulator inside a test process: ``with RunningEmulator() as aep: ...``.

The server runs in a background thread on a free loopback port; the helpers below drive the
``/__emulator__/`` admin API over HTTP exactly like an external test harness would, and read what AEP
holds (dataflows, runs, datasets, Catalog batches) so a test can assert on what landed. The pytest
plugin (:mod:`aep_emulator.pytest_plugin`) hands one to each test, reset.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from aep_emulator.faults import FaultRule
from aep_emulator.settings import EmulatorSettings, airflow_connection_env

ADMIN_PREFIX = "/__emulator__"
#: ``User-Agent`` of the Platform calls the helpers make (:meth:`RunningEmulator.platform_get`): they show
#: in :meth:`RunningEmulator.requests` under this name, never as the provider's.
HELPER_USER_AGENT = "aep-emulator-testing"
CATALOG_BATCHES = "/data/foundation/catalog/batches"
#: Catalog's largest page (help/catalog/api/filter-data.md).
CATALOG_PAGE = 100


class RunningEmulator:
    """An emulator served by uvicorn in a daemon thread, for tests, benchmarks and demos.

    :param settings: any :class:`EmulatorSettings` field (``run_duration_seconds=1``, ``state_file=...``,
        ``client_secret=...``); ``host`` and ``port`` are ignored: it always binds 127.0.0.1 on a free port.
    """

    def __init__(self, **settings: Any) -> None:
        settings.pop("host", None)
        settings.pop("port", None)
        self.settings = EmulatorSettings(host="127.0.0.1", port=0, **settings)
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._admin: httpx.Client | None = None
        self._platform: httpx.Client | None = None
        self._token = ""
        self.url = ""

    @property
    def client_id(self) -> str:
        """IMS client id (also the ``x-api-key``)."""
        return self.settings.client_id

    @property
    def client_secret(self) -> str:
        """IMS client secret."""
        return self.settings.client_secret

    @property
    def org_id(self) -> str:
        """IMS organization id sent as ``x-gw-ims-org-id``."""
        return self.settings.org_id

    def start(self) -> RunningEmulator:
        """Bind a free port, start serving and wait until ``/__emulator__/health`` answers."""
        import uvicorn

        from aep_emulator.app import create_app

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        self._socket = sock
        self.url = f"http://127.0.0.1:{port}"
        self.settings.port = port
        app = create_app(self.settings, public_url=self.url)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="aep-emulator", daemon=True
        )
        self._thread.start()
        self._admin = httpx.Client(base_url=self.url + ADMIN_PREFIX, timeout=10.0)
        self._platform = httpx.Client(
            base_url=self.url, timeout=10.0, headers={"User-Agent": HELPER_USER_AGENT}
        )
        self._wait_until_healthy(deadline=time.monotonic() + 15.0)
        return self

    def _wait_until_healthy(self, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                break
            try:
                self.health()
                return
            except httpx.HTTPError as exc:
                last_error = exc
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the AEP emulator did not become healthy at {self.url}: {last_error!r}")

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for its thread and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        for client in (self._admin, self._platform):
            if client is not None:
                client.close()
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._admin = self._platform = self._socket = None
        self._token = ""

    def __enter__(self) -> RunningEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        if self._admin is None:
            raise RuntimeError("the emulator is not running: use it as a context manager or call start()")
        response = self._admin.request(method, path, json=json)
        if response.is_error:  # the admin API says what was wrong: keep it in the message
            raise httpx.HTTPStatusError(
                f"{method} {ADMIN_PREFIX}{path} answered {response.status_code}: {response.text[:500]}",
                request=response.request,
                response=response,
            )
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        """``GET /__emulator__/health``."""
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def reset(self) -> None:
        """Forget every resource, fault, logged request, clock offset and config change."""
        self._call("POST", "/reset")

    def state(self) -> dict[str, Any]:
        """Every resource, by sandbox then kind (``{"prod": {"flows": [...], "runs": [...]}}``)."""
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def requests(self) -> list[dict[str, Any]]:
        """Every IMS/Platform request since the last reset (method, path, query, status, time, sandbox)."""
        result: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return result

    def add_faults(self, rules: Sequence[FaultRule | Mapping[str, Any]]) -> None:
        """Inject faults, each a :class:`~aep_emulator.faults.FaultRule` (its fields are documented there:
        ``path`` prefix or ``^regex``, ``method``, ``status``, ``times``, ``after_commit``...) or the same
        fields as a dict (the admin API checks it: a misspelt field is a 400 naming it).

        ``aep.add_faults([FaultRule(path="/data/foundation/flowservice/flows", method="POST",
        status=504, after_commit=True)])``: the next dataflow create happens, but its answer is lost.
        """
        raw = [rule.as_json() if isinstance(rule, FaultRule) else dict(rule) for rule in rules]
        self._call("POST", "/faults", json={"rules": raw})

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    def expire_tokens(self) -> None:
        """Invalidate every issued access token: the next Platform call answers 401 ``401013``."""
        self._call("POST", "/tokens/expire")

    def now(self) -> float:
        """The emulated clock, epoch seconds: real time plus what :meth:`advance_clock` added."""
        return float(self.health()["now"])

    def advance_clock(self, seconds: float) -> None:
        """Move the emulated clock forward (runs progress, scheduled runs appear, tokens expire)."""
        self._call("POST", "/clock/advance", json={"seconds": seconds})

    def advance_clock_to(self, moment: float) -> None:
        """Move the emulated clock forward to epoch second ``moment`` (no-op when it is already past)."""
        seconds = moment - self.now()
        if seconds > 0:
            self.advance_clock(seconds)

    def set_run_outcome(
        self, run_id: str, status: str, errors: list[dict[str, Any]] | None = None, **extra: int
    ) -> None:
        """Force the final status (any string) and errors of one run; ``failedRecords=N`` drops N rows
        (a ``success`` with dropped rows, as Adobe shows), ``partialIngestionPercent=P`` tags its batch."""
        self._call(
            "POST", f"/runs/{run_id}/outcome", json={"status": status, "errors": errors or [], **extra}
        )

    def set_flow_outcome(
        self, flow_id: str, status: str, errors: list[dict[str, Any]] | None = None, **extra: int
    ) -> None:
        """Force the final status, errors and ``failedRecords``/``partialIngestionPercent`` of a flow's
        future runs (see :meth:`set_run_outcome`)."""
        self._call(
            "POST", f"/flows/{flow_id}/outcome", json={"status": status, "errors": errors or [], **extra}
        )

    def configure(self, **config: Any) -> dict[str, Any]:
        """Change runtime config (any ``RuntimeConfig`` key: ``run_duration_seconds``, ``post_runs_shape``,
        ``inlet_url_location``, ``token_lifetime_seconds``, ``run_params_echo``, ``create_latency_seconds``)
        and return the whole config."""
        result: dict[str, Any] = self._call("POST", "/config", json=config)
        return result

    def conn_env(self, sandbox: str = "prod") -> dict[str, str]:
        """The ``AIRFLOW_CONN_*`` values ``aep-emulator env`` prints, for this emulator."""
        return airflow_connection_env(self.url, self.settings, sandbox=sandbox)

    # What AEP holds, for assertions: each a list of resources as the admin API's state shows them.

    def resources(self, kind: str, sandbox: str = "prod") -> list[dict[str, Any]]:
        """Every resource of one kind in one sandbox, from :meth:`state`: ``connections``,
        ``sourceConnections``, ``targetConnections``, ``flows``, ``runs``, ``dataSets``, ``schemas``,
        ``classes``, ``mappingSets``, ``inlets``, ``datasetRecords``.

        :raises KeyError: for an unknown sandbox or kind, naming the known ones.
        """
        state = self.state()
        if sandbox not in state:
            raise KeyError(f"no sandbox {sandbox!r}; the emulator has {sorted(state)}")
        if kind not in state[sandbox]:
            raise KeyError(f"no resource kind {kind!r}; the kinds are {sorted(state[sandbox])}")
        found: list[dict[str, Any]] = state[sandbox][kind]
        return found

    def dataflows(self, sandbox: str = "prod") -> list[dict[str, Any]]:
        """Every dataflow (Flow Service ``flows``), as ``GET /flows`` items."""
        return self.resources("flows", sandbox)

    def runs(self, flow_id: str | None = None, sandbox: str = "prod") -> list[dict[str, Any]]:
        """Flow runs (of one dataflow when ``flow_id`` is given), oldest first, as ``GET /runs`` shows them
        now, plus the emulator's ``params`` (what the run was asked with: its window), ``runKind``
        (``onDemand``, ``scheduled``...) and ``plan``. A run's status is
        ``run["metrics"]["statusSummary"]["status"]`` (:func:`run_status`)."""
        runs = [run for run in self.resources("runs", sandbox) if flow_id is None or run["flowId"] == flow_id]
        return sorted(runs, key=lambda run: (run["createdAt"], run["plan"]["startsAtMs"]))

    def datasets(self, sandbox: str = "prod") -> list[dict[str, Any]]:
        """Every Catalog dataset, each with its ``id``."""
        return self.resources("dataSets", sandbox)

    def batches(self, dataset_id: str | None = None, sandbox: str = "prod") -> list[dict[str, Any]]:
        """The Catalog batches finished runs wrote (of one dataset when ``dataset_id`` is given), each with
        its ``id``, ``status``, ``relatedObjects`` and ``metrics`` (``inputRecordCount``,
        ``outputRecordCount``, ``failedRecordCount``): ``GET /batches`` through the Platform gateway, every
        page, so these calls show in :meth:`requests` (``User-Agent: aep-emulator-testing``)."""
        found: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": CATALOG_PAGE}
        if dataset_id is not None:
            params["dataSet"] = dataset_id
        while True:
            page_params = {**params, "start": len(found)}
            page: dict[str, Any] = self.platform_get(CATALOG_BATCHES, page_params, sandbox)
            found.extend({"id": batch_id, **batch} for batch_id, batch in page.items())
            if len(page) < CATALOG_PAGE:
                return found

    def platform_get(
        self, path: str, params: Mapping[str, str | int] | None = None, sandbox: str = "prod"
    ) -> Any:
        """``GET`` a Platform path (``/data/foundation/...``) as an authenticated client would: an IMS token
        from this emulator's credentials, ``x-api-key``, ``x-gw-ims-org-id`` and ``x-sandbox-name``.

        :raises httpx.HTTPStatusError: when the emulator answers an error (the body is in the message).
        """
        if self._platform is None:
            raise RuntimeError("the emulator is not running: use it as a context manager or call start()")
        response = self._platform.get(path, params=params, headers=self._platform_headers(sandbox))
        if response.status_code == 401:  # the token expired on the emulated clock: renew it once
            self._token = ""
            response = self._platform.get(path, params=params, headers=self._platform_headers(sandbox))
        if response.is_error:
            raise httpx.HTTPStatusError(
                f"GET {path} answered {response.status_code}: {response.text[:500]}",
                request=response.request,
                response=response,
            )
        return response.json()

    def _platform_headers(self, sandbox: str) -> dict[str, str]:
        assert self._platform is not None
        if not self._token:
            answer = self._platform.post(
                "/ims/token/v3",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": "openid,AdobeID,read_organizations",
                },
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {
            "Authorization": f"Bearer {self._token}",
            "x-api-key": self.client_id,
            "x-gw-ims-org-id": self.org_id,
            "x-sandbox-name": sandbox,
        }


def run_status(run: Mapping[str, Any]) -> str:
    """A flow run's status (``scheduled``, ``inProgress``, ``success``, ``failed``...), as AEP shows it in
    ``metrics.statusSummary.status``."""
    return str(run["metrics"]["statusSummary"]["status"])


def run_window(run: Mapping[str, Any]) -> tuple[int, int] | None:
    """The ``(start, end)`` epoch seconds a run of :meth:`RunningEmulator.runs` ingests, for scheduled and
    on-demand runs alike (the emulator's ``plan.windowMs``, whatever unit the request used); ``None`` for
    a run with no window (streaming)."""
    window = run["plan"].get("windowMs")
    if window is None:
        return None
    return int(window[0]) // 1000, int(window[1]) // 1000
