"""Structured logs: one JSON object per line, and one access line per request with its id.

Every request gets an id (the client's ``X-Request-ID`` when it sends a sane one, else a new
one), echoed in the response's ``X-Request-ID`` header and in the access line, so an
operator can follow one request from the client's report to the server's log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any, Final

access_log: Final = logging.getLogger("rxgen.access")
_SANE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(json_lines: bool = True, level: int = logging.INFO) -> None:
    """Route rxgen's (and uvicorn's error) logs to stderr, as JSON lines by default."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(logging.BASIC_FORMAT))
    for name in ("rxgen", "drivers", "rxcore", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def request_id(header: str | None) -> str:
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def log_access(
    request_id: str, method: str, path: str, status: int, started: float, user: int | None
) -> None:
    access_log.info(
        "%s %s %d",
        method,
        path,
        status,
        extra={
            "fields": {
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user": user,
            }
        },
    )
