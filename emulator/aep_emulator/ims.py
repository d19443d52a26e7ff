"""Adobe IMS OAuth server-to-server: ``POST /ims/token/v3`` (client credentials)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from aep_emulator.state import Store


def _ims_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def token_endpoint(store: Store) -> object:
    """The IMS token endpoint: form-encoded ``grant_type``, ``client_id``, ``client_secret``, ``scope``."""

    async def issue_token(request: Request) -> JSONResponse:
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        # IMS also reads these from the query string; the body wins when both are sent.
        fields = {**dict(request.query_params), **form}
        grant_type = fields.get("grant_type", "")
        if not grant_type:
            return _ims_error(400, "invalid_request", "missing grant_type parameter")
        if grant_type != "client_credentials":
            return _ims_error(400, "unsupported_grant_type", f"grant_type {grant_type} is not supported")
        client_id = fields.get("client_id", "")
        if not client_id:
            return _ims_error(400, "invalid_request", "missing client_id parameter")
        if client_id != store.settings.client_id:
            return _ims_error(400, "invalid_client", "invalid client_id parameter")
        client_secret = fields.get("client_secret", "")
        if not client_secret:
            return _ims_error(400, "invalid_request", "missing client_secret parameter")
        if not secrets.compare_digest(client_secret, store.settings.client_secret):
            return _ims_error(401, "invalid_client", "invalid client_secret parameter")
        lifetime = store.config.token_lifetime_seconds
        token = "eyJhbGciOiJSUzI1NiJ9.emulator." + secrets.token_urlsafe(32)
        store.tokens[token] = store.now() + lifetime
        _forget_expired(store)
        store.save()
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime})

    return issue_token


def _forget_expired(store: Store) -> None:
    """Drop expired tokens so a long-lived emulator does not accumulate them."""
    now = store.now()
    for token in [token for token, expires_at in store.tokens.items() if expires_at <= now]:
        del store.tokens[token]
