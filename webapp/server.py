"""The HTTP server: Starlette routes over the running services.

Order of checks for every request: the Host header must be one the server was configured for
(DNS rebinding), then health routes answer without auth, then the caller is identified (token
or session) and unsafe requests from foreign origins or without the session's CSRF token are
refused. Every response carries ``X-Content-Type-Options: nosniff``; pages get a strict
Content-Security-Policy.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Final

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webapp import (
    api_routes,
    artifact_routes,
    comfy_routes,
    log_routes,
    log_transfer_routes,
    request_log,
    static_routes,
    what_if_worker,
    workflow_routes,
    ws_routes,
)
from webapp.openapi import Operation, openapi_endpoint, routes
from webapp.problems import problem
from webapp.services import ServerConfig, Services, start

PUBLIC = frozenset({"/healthz", "/readyz", "/api/auth/login", "/metrics", "/openapi.json"})
VERSION = "0.1.0"
CSP = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    problems = []
    try:
        async with services.database.transaction() as session:
            from sqlalchemy import text

            await session.execute(text("SELECT 1"))
    except Exception as error:
        problems.append(f"database: {type(error).__name__}: {error}")
    from webapp.services import models_dir

    if not models_dir(services.config).is_dir():
        problems.append(f"models directory {models_dir(services.config)} does not exist")
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    from webapp.metrics import render

    return render(request.app.state.services)


_SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"same-origin"),
)


class Guard:
    """Identifies the caller and refuses what must not proceed, as plain ASGI middleware.

    (Starlette's BaseHTTPMiddleware runs every request in a task group of its own, which cost
    more than the rest of a small request.) WebSockets pass through: their routes identify
    the caller themselves.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers_in = dict(scope.get("headers") or [])
        rid = request_log.request_id(headers_in.get(b"x-request-id", b"").decode("latin-1"))
        status = [500]
        user: list[int | None] = [None]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = rid
                for name, value in _SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_headers, user)
        finally:
            path = scope["path"]
            request_log.log_access(rid, scope["method"], path, status[0], started, user[0])

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, user: list[int | None]
    ) -> None:
        path = scope["path"]
        public = path in PUBLIC or static_routes.is_public(path)
        if public and path != "/api/auth/login":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        services: Services = request.app.state.services
        identity = await services.auth.identify(request)
        user[0] = identity.user_id if identity is not None else None
        refusal = services.auth.refusal(request, identity)
        if refusal is None and identity is None and path not in PUBLIC:
            refusal = problem(
                401,
                "authentication required",
                "log in (POST /api/auth/login) or send 'Authorization: Bearer <API token>'",
            )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)


def operations() -> list[Operation]:
    """Every HTTP operation the server answers besides health, metrics and WebSockets."""
    return [
        *api_routes.operations(),
        *workflow_routes.operations(),
        *artifact_routes.operations(),
        *log_routes.operations(),
        *log_transfer_routes.operations(),
        *comfy_routes.operations(),
    ]


def create_app(config: ServerConfig | None = None) -> Starlette:
    config = config or ServerConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.services = await start(config)
        try:
            yield
        finally:
            what_if_worker.shutdown()
            await app.state.services.stop()

    hosts = list(config.allowed_hosts) or _default_hosts(config.host)
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/openapi.json", openapi_endpoint(operations(), title="rxgen", version=VERSION)),
            *routes(operations()),
            *ws_routes.routes(),
            *static_routes.routes(),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
            Middleware(Guard),
        ],
        lifespan=lifespan,
    )


def _default_hosts(host: str) -> list[str]:
    loopback = ["localhost", "127.0.0.1", "[::1]", "::1"]
    if host in ("0.0.0.0", "::", ""):
        return loopback
    return sorted({host, *loopback})
