"""Error answers as RFC 9457 problem documents: what went wrong, and what to do about it."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
