"""The emulator's memory: resources per sandbox, the emulated clock, tokens and runtime config.

Everything here is plain JSON-able data so that ``--state FILE`` can persist it verbatim. Faults and the
request log are deliberately not persisted: they belong to one test, not to the emulated platform.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aep_emulator.settings import EmulatorSettings

RESOURCE_KINDS = (
    "connections",
    "sourceConnections",
    "targetConnections",
    "flows",
    "runs",
    "dataSets",
    "schemas",
    "classes",
    "mappingSets",
)
# Bookkeeping the emulator needs but AEP would not show as a resource.
INTERNAL_KINDS = ("flowOutcomes", "runOutcomes", "inlets", "datasetRecords", "scheduleCursors")

Resource = dict[str, Any]


def sandbox_id(name: str) -> str:
    """A stable, uuid-shaped id for a sandbox name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator-sandbox:{name}"))


@dataclass
class RuntimeConfig:
    """Settings that tests may change at runtime through ``POST /__emulator__/config``.

    :param run_duration_seconds: emulated seconds a run stays ``inProgress``.
    :param post_runs_shape: answer of ``POST /runs``: ``spec`` (``{id, etag}``), ``items`` or ``run``.
    :param inlet_url_location: where a streaming flow shows its inlet: ``top`` or ``options``.
    :param token_lifetime_seconds: ``expires_in`` of new IMS tokens.
    :param run_window_fields: where a run item shows its data window. ``activity`` (default, Adobe's
        run monitoring example, help/sources/tutorials/api/monitor.md): only the copy activity's
        ``durationSummary.extensions.windowStart/windowEnd`` in epoch ms, no ``params``;
        ``activity_and_params``: that and the ``params`` of ``POST /runs`` echoed (epoch seconds, as the
        draft help/sources/tutorials/api/create-flow-runs.md answers); ``params``: only the echoed
        ``params``; ``none``: no window anywhere, like the examples of help/dataflows/api/monitor.md.
    :param create_latency_seconds: how long every create (``POST`` of a resource) takes before it is
        stored and answered; real AEP creates take 0.5-2 s, which is what lets concurrent look-ups miss.
    :param streaming_rate_limit_per_second: most requests a streaming inlet takes (both collection
        endpoints) in any one second before answering ``429`` with ``Retry-After``; ``None`` (or 0): no
        limit (help/ingestion/streaming-ingestion/overview.md: 1,000 requests per second).
    """

    run_duration_seconds: float
    post_runs_shape: str = "spec"
    inlet_url_location: str = "top"
    token_lifetime_seconds: int = 86399
    run_window_fields: str = "activity"
    create_latency_seconds: float = 0.0
    streaming_rate_limit_per_second: float | None = None

    ALLOWED = {
        "post_runs_shape": ("spec", "items", "run"),
        "inlet_url_location": ("top", "options"),
        "run_window_fields": ("activity", "activity_and_params", "params", "none"),
    }

    def as_dict(self) -> dict[str, Any]:
        """The config as the admin API shows it."""
        return {
            "run_duration_seconds": self.run_duration_seconds,
            "post_runs_shape": self.post_runs_shape,
            "inlet_url_location": self.inlet_url_location,
            "token_lifetime_seconds": self.token_lifetime_seconds,
            "run_window_fields": self.run_window_fields,
            "create_latency_seconds": self.create_latency_seconds,
            "streaming_rate_limit_per_second": self.streaming_rate_limit_per_second,
        }

    def update(self, changes: dict[str, Any]) -> None:
        """Apply admin changes, rejecting unknown keys and values with ``ValueError``."""
        for key, value in changes.items():
            if key not in self.as_dict():
                raise ValueError(f"unknown config key {key!r}")
            allowed = self.ALLOWED.get(key)
            if allowed is not None and value not in allowed:
                raise ValueError(f"{key} must be one of {allowed}")
            if key == "run_duration_seconds":
                value = float(value)
                if value < 0:
                    raise ValueError("run_duration_seconds must be >= 0")
            if key == "token_lifetime_seconds":
                value = int(value)
            if key == "create_latency_seconds":
                value = float(value)
                if not 0 <= value <= 60:
                    raise ValueError("create_latency_seconds must be between 0 and 60")
            if key == "streaming_rate_limit_per_second":
                value = _rate_limit(value)
            setattr(self, key, value)


def _rate_limit(value: Any) -> float | None:
    """A ``streaming_rate_limit_per_second``: ``None`` or 0 (no limit), or a positive number."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise ValueError("streaming_rate_limit_per_second must be null, 0 (no limit) or a positive number")
    return float(value)


@dataclass
class Store:
    """All mutable emulator state.

    :param settings: start-up settings (sandboxes, credentials, state file, defaults).
    """

    settings: EmulatorSettings
    sandboxes: dict[str, dict[str, dict[str, Resource]]] = field(default_factory=dict)
    clock_offset: float = 0.0
    tokens: dict[str, float] = field(default_factory=dict)
    config: RuntimeConfig = field(init=False)

    def __post_init__(self) -> None:
        self.config = self._initial_config()
        self.sandboxes = self._empty_sandboxes()
        if self.settings.state_file and Path(self.settings.state_file).exists():
            self._load(Path(self.settings.state_file))

    def _initial_config(self) -> RuntimeConfig:
        config = RuntimeConfig(
            run_duration_seconds=self.settings.run_duration_seconds,
            token_lifetime_seconds=self.settings.token_lifetime_seconds,
        )
        config.update(dict(self.settings.config))
        return config

    def _empty_sandboxes(self) -> dict[str, dict[str, dict[str, Resource]]]:
        return {
            name: {kind: {} for kind in RESOURCE_KINDS + INTERNAL_KINDS} for name in self.settings.sandboxes
        }

    def reset(self) -> None:
        """Back to the start values: no resources, tokens, clock offset or config change."""
        self.sandboxes = self._empty_sandboxes()
        self.clock_offset = 0.0
        self.tokens = {}
        self.config = self._initial_config()
        self.save()

    def now(self) -> float:
        """The emulated clock in epoch seconds: real time plus the advanced offset."""
        return time.time() + self.clock_offset

    def now_ms(self) -> int:
        """The emulated clock in epoch milliseconds (AEP's ``createdAt`` unit)."""
        return int(self.now() * 1000)

    def audit(self, sandbox: str) -> dict[str, Any]:
        """The ``createdAt``/``createdBy``/``sandboxName``... fields AEP stamps on every stored resource."""
        now = self.now_ms()
        user = f"{self.settings.client_id}@AdobeID"
        return {
            "createdAt": now,
            "updatedAt": now,
            "createdBy": user,
            "updatedBy": user,
            "createdClient": self.settings.client_id,
            "updatedClient": self.settings.client_id,
            "sandboxId": sandbox_id(sandbox),
            "sandboxName": sandbox,
            "imsOrgId": self.settings.org_id,
        }

    def kind(self, sandbox: str, kind: str) -> dict[str, Resource]:
        """The id -> resource table of one kind in one sandbox."""
        return self.sandboxes[sandbox][kind]

    def snapshot(self) -> dict[str, dict[str, list[Resource]]]:
        """A deep copy of every public resource, by sandbox then kind (admin ``GET state``)."""
        result: dict[str, dict[str, list[Resource]]] = {}
        for name, kinds in self.sandboxes.items():
            result[name] = {kind: copy.deepcopy(list(kinds[kind].values())) for kind in RESOURCE_KINDS}
            # Catalog keeps a dataset's id as its key only; the snapshot names it.
            result[name]["dataSets"] = [
                {"id": key, **copy.deepcopy(value)} for key, value in kinds["dataSets"].items()
            ]
            result[name]["inlets"] = copy.deepcopy(list(kinds["inlets"].values()))
            result[name]["datasetRecords"] = [
                {"dataSetId": key, **value} for key, value in kinds["datasetRecords"].items()
            ]
        return result

    def save(self) -> None:
        """Write the state file atomically (no-op when the state lives in memory only)."""
        if not self.settings.state_file:
            return
        target = Path(self.settings.state_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "sandboxes": self.sandboxes,
            "clock_offset": self.clock_offset,
            "tokens": self.tokens,
            "config": self.config.as_dict(),
        }
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream)
        os.replace(temp_name, target)

    def _load(self, path: Path) -> None:
        payload = json.loads(path.read_text(encoding="utf-8"))
        for name, kinds in payload.get("sandboxes", {}).items():
            target = self.sandboxes.setdefault(name, {kind: {} for kind in RESOURCE_KINDS + INTERNAL_KINDS})
            for kind, table in kinds.items():
                target[kind] = table
        self.clock_offset = float(payload.get("clock_offset", 0.0))
        self.tokens = {str(key): float(value) for key, value in payload.get("tokens", {}).items()}
        self.config.update(payload.get("config", {}))
