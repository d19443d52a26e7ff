"""Start-up settings of the emulator, from flags, ``AEP_EMULATOR_*`` environment variables or code."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "AEP_EMULATOR_"


@dataclass
class EmulatorSettings:
    """Everything the emulator needs to start.

    :param host: interface to listen on.
    :param port: TCP port (0 picks a free one).
    :param state_file: JSON file that persists the state across restarts; ``None`` keeps it in memory.
    :param run_duration_seconds: emulated seconds a flow run stays ``inProgress``.
    :param client_id: the only IMS client id (and ``x-api-key``) accepted.
    :param client_secret: the secret that goes with ``client_id``.
    :param org_id: the IMS organization accepted in ``x-gw-ims-org-id``.
    :param token_lifetime_seconds: ``expires_in`` of issued access tokens.
    :param sandboxes: the sandboxes that exist; each has fully isolated state.
    :param tenant_id: the Schema Registry tenant id (``_<tenant>`` in XDM paths).
    :param paypal_client_id: PayPal source credentials printed by ``aep-emulator env``.
    :param paypal_client_secret: PayPal source secret printed by ``aep-emulator env``.
    :param sfmc_client_id: Salesforce Marketing Cloud client id printed by ``aep-emulator env``.
    :param sfmc_client_secret: Salesforce Marketing Cloud secret printed by ``aep-emulator env``.
    :param sfmc_subdomain: Salesforce Marketing Cloud subdomain printed by ``aep-emulator env``.
    :param config: start values of the runtime config (the documented answer variants, create latency:
        see ``RuntimeConfig``); from the environment as a JSON object in ``AEP_EMULATOR_CONFIG``.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    state_file: str | None = None
    run_duration_seconds: float = 3.0
    client_id: str = "aep-emulator"
    client_secret: str = "aep-emulator-secret"
    org_id: str = "EMULATOR@AdobeOrg"
    token_lifetime_seconds: int = 86399
    sandboxes: tuple[str, ...] = ("prod", "dev")
    tenant_id: str = "emulatortenant"
    paypal_client_id: str = "paypal-emulator-client"
    paypal_client_secret: str = "paypal-emulator-secret"
    sfmc_client_id: str = "sfmc-emulator-client"
    sfmc_client_secret: str = "sfmc-emulator-secret"
    sfmc_subdomain: str = "mcemulator"
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EmulatorSettings:
        """Build settings from ``AEP_EMULATOR_<FIELD>`` variables, then apply non-``None`` overrides.

        :param environ: the environment to read (``os.environ`` by default).
        :param overrides: explicit values (e.g. command-line flags) that win over the environment.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name == "extra":
                continue
            raw = env.get(ENV_PREFIX + spec.name.upper())
            if raw is None and spec.name == "state_file":
                raw = env.get(ENV_PREFIX + "STATE")
            if raw is not None:
                values[spec.name] = _coerce(spec.name, raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


def _coerce(name: str, raw: str) -> Any:
    """Turn an environment string into the type of the field called ``name``."""
    if name == "port" or name == "token_lifetime_seconds":
        return int(raw)
    if name == "run_duration_seconds":
        return float(raw)
    if name == "config":
        import json

        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError(f"{ENV_PREFIX}CONFIG must be a JSON object")
        return value
    if name == "sandboxes":
        return tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    return raw


def airflow_connection_env(url: str, settings: EmulatorSettings, sandbox: str = "prod") -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` variables (Airflow's JSON connection format) that point Airflow at ``url``.

    :param url: base URL of the running emulator (serves both IMS and the Platform gateway).
    :param settings: the emulator's settings (credentials and org).
    :param sandbox: sandbox the ``aep_default`` connection sends as ``x-sandbox-name``.
    """
    import json

    base = url.rstrip("/")
    aep = {
        "conn_type": "aep",
        "login": settings.client_id,
        "password": settings.client_secret,
        "host": base,
        "extra": {"org_id": settings.org_id, "sandbox": sandbox, "ims_url": base},
    }
    paypal = {
        "conn_type": "generic",
        "login": settings.paypal_client_id,
        "password": settings.paypal_client_secret,
        "host": "https://api-m.sandbox.paypal.com",
    }
    sfmc = {
        "conn_type": "generic",
        "login": settings.sfmc_client_id,
        "password": settings.sfmc_client_secret,
        "host": f"{settings.sfmc_subdomain}.auth.marketingcloudapis.com",
        "extra": {"subdomain": settings.sfmc_subdomain},
    }
    return {
        "AIRFLOW_CONN_AEP_DEFAULT": json.dumps(aep),
        "AIRFLOW_CONN_PAYPAL_DEFAULT": json.dumps(paypal),
        "AIRFLOW_CONN_SFMC_DEFAULT": json.dumps(sfmc),
    }
