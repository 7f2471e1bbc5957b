"""The web debugger on one recorded log, without its server (`rxgen debug LOGFILE`).

A small Starlette app: the same ``/api/logs`` routes the server has (records, state, diff,
verify, what-if), for this one log only, and the browser client from ``webapp/static``. There
is no database and nothing to write: the log is only read, and verify and what-if replay it in
a sandbox. There is no login either, so it listens on loopback only (the command refuses other
addresses), answers only Host names of loopback (DNS rebinding) and refuses POSTs from other
origins (a web page the browser shows cannot make it run replays).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drivers.store.records import UserRecord
from webapp import log_routes, static_routes, what_if_worker
from webapp.auth import Identity
from webapp.log_access import OpenLogs
from webapp.openapi import openapi_endpoint, routes
from webapp.problems import problem

LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1", "[::1]")
DEBUG_USER: Final = UserRecord(
    id=0,
    name="debug",
    role="admin",
    created_at=datetime.fromtimestamp(0, UTC),
    disabled=False,
    password_hash=None,
)
_HEADERS: Final = (
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'self'; img-src 'self' blob: data:; "
     "object-src 'none'; frame-ancestors 'none'"),
    ("referrer-policy", "same-origin"),
)  # fmt: skip
_MISSING_CLIENT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rxgen debug</title></head>
<body><h1>rxgen debug</h1>
<p>The browser client bundle is missing ({page} does not exist): build it with
<code>cd webapp/client &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
<p>The debugger's API answers meanwhile: <a href="/api/logs">/api/logs</a>,
<a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


@dataclass
class DebugServices:
    """What the log routes reach through ``request.app.state.services``."""

    logs: OpenLogs
    log_dir: Path
    read_only: bool = True  # told to the client: no export or import here


class DebugGuard:
    """Every caller is the debug admin; POSTs only from this page's own origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.identity = Identity(DEBUG_USER, via="open")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if request.method not in ("GET", "HEAD") and origin is not None and origin != own:
            refusal = problem(
                403, "foreign origin", f"{origin} may not ask this debugger to run replays"
            )
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = self.identity

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _about(services: DebugServices) -> dict[str, Any]:
    return {"log": services.log_dir.name, "path": str(services.log_dir), "read_only": True}


async def me(request: Request) -> Response:
    # ``debug`` tells the browser client where it runs: it then offers only the debugger, names
    # the log in its header and opens no /api/ws (this app has none). The server's answer has
    # no such field.
    return JSONResponse(
        {"id": DEBUG_USER.id, "name": DEBUG_USER.name, "role": "admin", "via": "open",
         "csrf_token": None, "debug": _about(request.app.state.services)}
    )  # fmt: skip


async def about(request: Request) -> Response:
    return JSONResponse(_about(request.app.state.services))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def page(request: Request) -> Response:
    index = static_routes.STATIC_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(_MISSING_CLIENT.format(page=index), status_code=503)
    return await static_routes.index(request)


def create_debug_app(log_dir: Path) -> Starlette:
    """The debugger app for the log directory ``log_dir`` (checked by the caller)."""
    operations = log_routes.operations()
    client: list[BaseRoute] = [
        route for route in static_routes.routes() if getattr(route, "path", None) != "/"
    ]
    logs = OpenLogs(log_dir, None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            what_if_worker.shutdown()
            logs.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/healthz", healthz),
            Route("/api/auth/me", me),
            Route("/api/debug", about),
            Route("/openapi.json", openapi_endpoint(operations, title="rxgen debug", version="1")),
            *routes(operations),
            *client,
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_HOSTS)),
            Middleware(DebugGuard),
        ],
        lifespan=lifespan,
    )
    # The log directory itself is the root: OpenLogs then lists and opens this one log only.
    app.state.services = DebugServices(logs, log_dir)
    return app
