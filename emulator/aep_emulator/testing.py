"""Run the emulator inside a test process: ``with RunningEmulator() as aep: ...``.

The server runs in a background thread on a free loopback port; the helpers below drive the
``/__emulator__/`` admin API over HTTP exactly like an external test harness would.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx

from aep_emulator.settings import EmulatorSettings, airflow_connection_env

ADMIN_PREFIX = "/__emulator__"


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
        if self._admin is not None:
            self._admin.close()
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._admin = self._socket = None

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
        response.raise_for_status()
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

    def add_faults(self, rules: list[dict[str, Any]]) -> None:
        """Inject faults; the README's "Admin API" lists the rule fields (path prefix or ``^regex``)."""
        self._call("POST", "/faults", json={"rules": rules})

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    def expire_tokens(self) -> None:
        """Invalidate every issued access token: the next Platform call answers 401 ``401013``."""
        self._call("POST", "/tokens/expire")

    def advance_clock(self, seconds: float) -> None:
        """Move the emulated clock forward (runs progress, scheduled runs appear, tokens expire)."""
        self._call("POST", "/clock/advance", json={"seconds": seconds})

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
