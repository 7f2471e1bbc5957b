"""The browser client: the built bundle in webapp/static, served by `rxgen serve`.

Client pages live under ``/app/`` (the server's other paths are its API and the ComfyUI
routes); every page is the same index.html, and the client routes itself. The bundle's file
names carry no content hash (the committed build must be byte-identical to a fresh one), so
everything is revalidated with its ETag instead of cached blindly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
APP_PREFIX: Final = "/app"
STATIC_PREFIX: Final = "/static"
REVALIDATE: Final = "no-cache"


def is_public(path: str) -> bool:
    """Paths anyone may fetch without logging in: the pages and the bundle (no user data)."""
    return (
        path == "/"
        or path == APP_PREFIX
        or path.startswith(APP_PREFIX + "/")
        or path.startswith(STATIC_PREFIX + "/")
    )


class _Revalidated(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = REVALIDATE
        return response


async def index(request: Request) -> Response:
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        return PlainTextResponse(
            f"the browser client is not built: {page} is missing; run "
            "`cd webapp/client && npm ci && npm run build`",
            status_code=503,
        )
    return FileResponse(page, headers={"cache-control": REVALIDATE})


async def root(request: Request) -> Response:
    return RedirectResponse(f"{APP_PREFIX}/image", status_code=307)


def routes() -> list[BaseRoute]:
    return [
        Route("/", root),
        Route(APP_PREFIX, index),
        Route(APP_PREFIX + "/{page:path}", index),
        Mount(STATIC_PREFIX, _Revalidated(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
