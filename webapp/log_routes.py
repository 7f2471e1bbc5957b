"""``/api/logs``: the recorded sessions, read by the time-travel debugger.

Reading a log never touches the live server's state: every answer is computed from the files
(the live session's log included, as far as it has been written). An admin reads everything;
a user reads the records of their own jobs, and states with other users' parts taken out.
Log files are read on a worker thread, one request per log at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from components.server_state_view import private_state
from rxcore.log import LogError
from rxcore.log_diff import PointerError, changes, resolve
from rxcore.log_query import KINDS_BY_NAME, Cursor, Query, QueryError
from rxcore.log_view import LogView, Viewer, change_json, plain_json, row_json
from rxcore.replay import verify
from rxcore.segments import LogCorrupted
from webapp.auth import Identity
from webapp.bodies import read_query
from webapp.log_access import OpenLogs
from webapp.openapi import Operation
from webapp.problems import problem
from webapp.schemas import (
    LogDiff,
    LogDiffQuery,
    LogPage,
    LogRecordQuery,
    LogSessions,
    LogState,
    LogStateQuery,
    LogVerdict,
    Problem,
)
from webapp.what_if_route import post_what_if
from webapp.what_if_schemas import LogWhatIf, WhatIfBody

T = TypeVar("T")


def _viewer(identity: Identity) -> Viewer:
    return Viewer(str(identity.user_id), identity.is_admin)


async def _read(request: Request, work: Callable[[LogView], T]) -> T | Response:
    logs: OpenLogs = request.app.state.services.logs
    name = request.path_params["name"]
    try:
        return await asyncio.to_thread(logs.use, name, work)
    except FileNotFoundError:
        return problem(
            404, "no such session", f"{name!r} is not a recorded session (GET /api/logs)"
        )
    except (LogError, QueryError, PointerError) as error:
        return problem(422, "bad log request", str(error))
    except LogCorrupted as error:
        return problem(409, "log unreadable", str(error))


async def sessions(request: Request) -> Response:
    logs: OpenLogs = request.app.state.services.logs
    found = await asyncio.to_thread(logs.sessions)
    live = logs.live.name if logs.live is not None else None
    items = [
        {
            "name": s.name,
            "live": s.name == live,
            "size_bytes": s.size_bytes,
            "events": s.events,
            "first_seq": s.first_seq,
            "last_seq": s.last_seq,
            "first_time": s.first_time,
            "last_time": s.last_time,
            "error": s.error,
        }
        for s in found
    ]
    read_only = bool(getattr(request.app.state.services, "read_only", False))
    return JSONResponse({"items": items, "live": live, "read_only": read_only})


async def records(request: Request) -> Response:
    query = read_query(request, LogRecordQuery)
    if isinstance(query, Response):
        return query
    viewer = _viewer(request.state.identity)
    try:
        selection = Query(
            kinds=frozenset(KINDS_BY_NAME[k] for k in query.kinds()),
            drivers=_set(query.driver),
            jobs=_set(query.job),
            users=_set(query.user),
            start=query.start,
            end=query.end,
            since=query.since,
            until=query.until,
        )
        cursor = Cursor.parse(query.cursor) if query.cursor else None
    except (KeyError, QueryError) as error:
        return problem(422, "bad log query", str(error), field="kind")

    def work(view: LogView) -> dict[str, Any]:
        found = view.page(selection, cursor=cursor, limit=query.limit, viewer=viewer)
        return {
            "items": [row_json(row) for row in found.rows],
            "next_cursor": str(found.next) if found.next is not None else None,
        }

    answer = await _read(request, work)
    return answer if isinstance(answer, Response) else JSONResponse(answer)


async def state(request: Request) -> Response:
    query = read_query(request, LogStateQuery)
    if isinstance(query, Response):
        return query
    viewer = _viewer(request.state.identity)

    def work(view: LogView) -> dict[str, Any]:
        value = _visible_state(view, viewer, query.at, query.path)
        return {"seq": query.at, "path": query.path, "state": plain_json(value)}

    answer = await _read(request, work)
    return answer if isinstance(answer, Response) else JSONResponse(answer)


async def diff(request: Request) -> Response:
    query = read_query(request, LogDiffQuery)
    if isinstance(query, Response):
        return query
    viewer = _viewer(request.state.identity)

    def work(view: LogView) -> dict[str, Any]:
        before = _visible_state(view, viewer, query.a, query.path)
        after = _visible_state(view, viewer, query.b, query.path)
        found = changes(before, after, query.path if query.path != "/" else "")
        return {"a": query.a, "b": query.b, "changes": [change_json(c) for c in found]}

    answer = await _read(request, work)
    return answer if isinstance(answer, Response) else JSONResponse(answer)


async def run_verify(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "verifying replays every user's events")
    logs: OpenLogs = request.app.state.services.logs
    path = logs.path(request.path_params["name"])
    if path is None:
        return problem(404, "no such session", "see GET /api/logs")
    try:
        report = await asyncio.to_thread(verify, str(path))
    except (LogError, LogCorrupted, ImportError, ValueError) as error:
        return problem(422, "cannot verify this log", str(error))
    divergence = report.divergence
    return JSONResponse(
        {
            "ok": report.ok,
            "events": report.events,
            "sinks": report.sinks,
            "states": report.states,
            "divergence": str(divergence) if divergence is not None else None,
        }
    )


def _set(text: str | None) -> frozenset[str] | None:
    items = frozenset(t for t in (text or "").split(",") if t)
    return items or None


def _visible_state(view: LogView, viewer: Viewer, seq: int, pointer: str) -> Any:
    """The state after ``seq`` (the part at ``pointer``) as ``viewer`` may see it."""
    if viewer.is_admin:
        return view.state_at(seq, pointer)
    # Scrubbed whole first, then the part asked for: a pointer cannot reach around the scrub.
    return resolve(private_state(view.state_at(seq, viewer=viewer)), pointer)


def operations() -> list[Operation]:
    item = "/api/logs/{name}"
    return [
        Operation("GET", "/api/logs", sessions, "Recorded sessions", "debugger",
                  {200: LogSessions}),
        Operation("GET", f"{item}/records", records, "A page of a session's records",
                  "debugger", {200: LogPage, 404: Problem, 422: Problem}, query=LogRecordQuery),
        Operation("GET", f"{item}/state", state, "The state after an event", "debugger",
                  {200: LogState, 404: Problem, 422: Problem}, query=LogStateQuery),
        Operation("GET", f"{item}/diff", diff, "What changed between two events", "debugger",
                  {200: LogDiff, 404: Problem, 422: Problem}, query=LogDiffQuery),
        Operation("POST", f"{item}/verify", run_verify, "Replay and compare (admins)",
                  "debugger", {200: LogVerdict, 403: Problem, 404: Problem, 422: Problem}),
        Operation("POST", f"{item}/what-if", post_what_if,
                  "Drop or edit one event, replay in a sandbox, compare (admins)", "debugger",
                  {200: LogWhatIf, 403: Problem, 404: Problem, 409: Problem, 413: Problem,
                   422: Problem, 429: Problem}, body=WhatIfBody),
    ]  # fmt: skip
