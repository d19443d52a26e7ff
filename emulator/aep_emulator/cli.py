"""``aep-emulator``: ``serve`` the emulator, or print the ``env`` that points Airflow at it."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence

from aep_emulator.settings import ENV_PREFIX, EmulatorSettings, airflow_connection_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aep-emulator",
        description="An offline Adobe Experience Platform + Adobe IMS for tests, demos and CI.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve IMS and the Platform gateway on one port")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8765)")
    serve.add_argument("--state", dest="state_file", help="JSON file that keeps the state across restarts")
    serve.add_argument("--run-duration", dest="run_duration_seconds", type=float, help="seconds a run takes")
    serve.add_argument("--client-id", help="accepted IMS client id / x-api-key")
    serve.add_argument("--client-secret", help="accepted IMS client secret")
    serve.add_argument("--org", dest="org_id", help="accepted IMS org id")
    serve.add_argument("--token-lifetime", dest="token_lifetime_seconds", type=int, help="token expires_in")
    env = commands.add_parser("env", help="print export lines for AIRFLOW_CONN_AEP_DEFAULT and friends")
    env.add_argument("--url", help="emulator URL (default http://<host>:<port> from the settings)")
    env.add_argument("--sandbox", default="prod", help="sandbox of aep_default (default prod)")
    return parser


def _serve(settings: EmulatorSettings) -> None:
    import uvicorn

    from aep_emulator.app import create_app

    app = create_app(settings)
    where = settings.state_file or "memory"
    print(
        f"AEP emulator on http://{settings.host}:{settings.port} (state: {where}, "
        f"client id {settings.client_id}, org {settings.org_id})",
        file=sys.stderr,
    )
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="warning", access_log=False, lifespan="off"
    )


def env_lines(url: str, settings: EmulatorSettings, sandbox: str = "prod") -> list[str]:
    """``export NAME='json'`` lines for a POSIX shell."""
    return [
        f"export {name}={shlex.quote(value)}"
        for name, value in airflow_connection_env(url, settings, sandbox).items()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aep-emulator`` console script."""
    args = _parser().parse_args(argv)
    options = {key: value for key, value in vars(args).items() if key not in ("command", "url", "sandbox")}
    settings = EmulatorSettings.from_env(os.environ, **options)
    if args.command == "serve":
        _serve(settings)
        return 0
    url = args.url or os.environ.get(ENV_PREFIX + "URL") or f"http://{settings.host}:{settings.port}"
    print("\n".join(env_lines(url, settings, args.sandbox)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
