"""The ``/__emulator__/`` admin API: reset, state, request log, faults, clock, tokens, outcomes, config.

No authentication on purpose: it is for tests, benchmarks and demos on loopback.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aep_emulator.faults import FaultRule
from aep_emulator.runs import refresh_all_runs, render_run


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    import json

    return json.loads(raw)


def admin_routes(runtime: Any) -> list[Route]:
    """Routes of the admin API bound to one emulator runtime (store, faults, request log)."""
    store = runtime.store

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "now": store.now(), "sandboxes": sorted(store.sandboxes)})

    async def reset(request: Request) -> Response:
        store.reset()
        runtime.faults.clear()
        runtime.request_log.clear()
        return JSONResponse({"status": "reset"})

    async def state(request: Request) -> Response:
        refresh_all_runs(store)
        snapshot = store.snapshot()
        for sandbox, kinds in snapshot.items():
            # Runs are shown as GET /runs would show them now, plus the emulator's own record of them:
            # the params they were asked with, their kind and plan (timeline, window, planned counts and
            # failure), which tests use to check what was ingested.
            kinds["runs"] = [
                {
                    **render_run(store, sandbox, run),
                    "params": run["params"],
                    "runKind": run["runKind"],
                    "plan": run["plan"],
                }
                for run in store.kind(sandbox, "runs").values()
            ]
        return JSONResponse(snapshot)

    async def requests_log(request: Request) -> Response:
        return JSONResponse({"requests": list(runtime.request_log)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            runtime.faults.clear()
            return JSONResponse({"rules": []})
        if request.method == "GET":
            return JSONResponse({"rules": [rule.as_json() for rule in runtime.faults]})
        try:
            payload = await _json(request)
            raw_rules = payload.get("rules", []) if isinstance(payload, dict) else payload
            rules = [FaultRule.from_json(raw) for raw in raw_rules]
        except (ValueError, TypeError) as exc:
            return _bad(f"invalid fault rules: {exc}")
        runtime.faults.extend(rules)
        return JSONResponse({"rules": [rule.as_json() for rule in runtime.faults]})

    async def expire_tokens(request: Request) -> Response:
        expired = len(store.tokens)
        store.tokens.clear()
        store.save()
        return JSONResponse({"expired": expired})

    async def advance_clock(request: Request) -> Response:
        try:
            seconds = float((await _json(request)).get("seconds"))
        except (TypeError, ValueError):
            return _bad("body must be {'seconds': <number>}")
        if seconds < 0:
            return _bad("the clock only moves forward")
        store.clock_offset += seconds
        store.save()
        return JSONResponse({"now": store.now(), "offset_seconds": store.clock_offset})

    async def outcome(request: Request) -> Response:
        payload = await _json(request)
        status = payload.get("status") if isinstance(payload, dict) else None
        errors = payload.get("errors") or [] if isinstance(payload, dict) else []
        if not isinstance(status, str) or not status or not isinstance(errors, list):
            return _bad("body must be {'status': <string>, 'errors': [{'code', 'message'}]}")
        extra = {key: payload.get(key) for key in ("failedRecords", "partialIngestionPercent")}
        if any(value is not None and (not isinstance(value, int) or value < 0) for value in extra.values()):
            return _bad("failedRecords and partialIngestionPercent must be whole numbers >= 0")
        kind = request.path_params["kind"]
        if kind not in ("runs", "flows"):
            return JSONResponse({"error": f"unknown admin path {request.url.path}"}, status_code=404)
        target_id = request.path_params["target_id"]
        table, resource_kind = ("runOutcomes", "runs") if kind == "runs" else ("flowOutcomes", "flows")
        for sandbox in store.sandboxes:
            if target_id in store.kind(sandbox, resource_kind):
                store.kind(sandbox, table)[target_id] = {
                    "status": status,
                    "errors": errors,
                    **{key: value for key, value in extra.items() if value is not None},
                }
                store.save()
                return JSONResponse({"id": target_id, "sandbox": sandbox, "status": status})
        return JSONResponse({"error": f"no {resource_kind[:-1]} {target_id}"}, status_code=404)

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                store.config.update(await _json(request))
            except (ValueError, TypeError) as exc:
                return _bad(str(exc))
            store.save()
        return JSONResponse(store.config.as_dict())

    return [
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/state", state, methods=["GET"]),
        Route("/requests", requests_log, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/clock/advance", advance_clock, methods=["POST"]),
        Route("/{kind:str}/{target_id:str}/outcome", outcome, methods=["POST"]),
        Route("/config", config, methods=["GET", "POST"]),
    ]
