"""``POST /api/logs/{name}/what-if``: drop or edit one recorded event, replay in a sandbox.

Admins only: the replay runs every user's events. It never touches the live server: the
sandbox's drivers are the replay's muted ones and its main is a fresh instance. One what-if
runs at a time per process, in a child process at a lower priority (``webapp.what_if_worker``),
within a time and an event budget; the answer says where it stopped.
"""

from __future__ import annotations

import threading
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rxcore.log import LogError
from rxcore.segments import LogCorrupted
from rxcore.what_if import Bounds, Edit
from webapp.auth import Identity
from webapp.bodies import read_body
from webapp.log_access import OpenLogs
from webapp.problems import problem
from webapp.what_if_schemas import WhatIfBody
from webapp.what_if_worker import WhatIfCrashed, run_in_child

MAX_SECONDS: Final = 20.0
MAX_EVENTS: Final = 500_000
MAX_BODY: Final = 256 << 10
_busy = threading.Lock()


async def post_what_if(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "a what-if replays every user's events")
    body = await read_body(request, WhatIfBody, limit=MAX_BODY)
    if isinstance(body, Response):
        return body
    if body.action == "edit" and body.payload is None:
        return problem(
            422, "edit needs a payload", "send the event's new value, or the fields to change",
            field="payload",
        )  # fmt: skip
    logs: OpenLogs = request.app.state.services.logs
    path = logs.path(request.path_params["name"])
    if path is None:
        return problem(404, "no such session", "see GET /api/logs for the recorded sessions")
    if not _busy.acquire(blocking=False):
        busy = problem(
            429, "a what-if is running", "one runs at a time; try again when it has answered"
        )
        busy.headers["Retry-After"] = "5"
        return busy
    bounds = Bounds(max_events=MAX_EVENTS, max_seconds=MAX_SECONDS, max_seqs=body.limit)
    try:
        edit = Edit(body.seq, body.action, body.payload)
        report = await run_in_child(path, edit, bounds)
    except WhatIfCrashed as error:
        return problem(503, "what-if failed", str(error))
    except LogCorrupted as error:
        return problem(409, "log unreadable", str(error))
    except (LogError, ImportError) as error:
        return problem(422, "cannot run this what-if", str(error))
    except FileNotFoundError as error:
        return problem(404, "no such session", f"{error} (deleted by retention?)")
    finally:
        _busy.release()
    return JSONResponse(report)
