"""rxgen's own REST API under ``/api``: login, the current user, jobs, API tokens, users.

Routes are thin: they check the request, call the store or the services, and answer JSON.
Errors are problem documents naming the field that was wrong. A user sees and touches only
their own jobs and tokens (admins: everyone's); someone else's job is a 404, not a 403, so ids
leak nothing.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from drivers.store import jobs as job_rows
from drivers.store import users as user_rows
from drivers.store.records import JobRecord
from webapp.auth import Identity
from webapp.problems import problem
from webapp.security import generate_api_token, hash_api_token, hash_password, parse_scopes

JOB_STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")


async def login(request: Request) -> Response:
    response: Response = await request.app.state.services.auth.login(request)
    return response


async def logout(request: Request) -> Response:
    response: Response = request.app.state.services.auth.logout(request.state.identity)
    return response


async def me(request: Request) -> Response:
    return JSONResponse(request.app.state.services.auth.describe(request.state.identity))


def job_json(row: JobRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "user_id": row.user_id,
        "status": row.status,
        "priority": row.priority,
        "created_at": row.created_at.isoformat(),
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "outputs": row.outputs,
        "error": row.error,
        "attempts": row.attempts,
        "prompt": row.prompt,
    }


async def list_jobs(request: Request) -> Response:
    identity: Identity = request.state.identity
    params = request.query_params
    statuses = [s for s in params.get("status", "").split(",") if s]
    unknown = sorted(set(statuses) - set(JOB_STATUSES))
    if unknown:
        return problem(
            422, "unknown status", f"status may be {', '.join(JOB_STATUSES)}", field="status"
        )
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        return problem(422, "limit is not a number", "give an integer 1..500", field="limit")
    if not 1 <= limit <= 500:
        return problem(422, "limit out of range", "give an integer 1..500", field="limit")
    async with request.app.state.services.database.transaction() as session:
        try:
            page = await job_rows.list_jobs(
                session,
                identity.user_id,
                admin=identity.is_admin,
                status=statuses or None,
                limit=limit,
                cursor=params.get("cursor"),
            )
        except ValueError as error:
            return problem(422, "bad cursor", str(error), field="cursor")
    return JSONResponse(
        {"items": [job_json(row) for row in page.items], "next_cursor": page.next_cursor}
    )


async def get_job(request: Request) -> Response:
    identity: Identity = request.state.identity
    async with request.app.state.services.database.transaction() as session:
        row = await job_rows.get_job(
            session, request.path_params["job_id"], identity.user_id, admin=identity.is_admin
        )
    if row is None:
        return problem(404, "no such job", "check the id; jobs of other users are not visible")
    return JSONResponse(job_json(row))


async def cancel_job(request: Request) -> Response:
    identity: Identity = request.state.identity
    services = request.app.state.services
    job_id = request.path_params["job_id"]
    async with services.database.transaction() as session:
        row = await job_rows.get_job(session, job_id, identity.user_id, admin=identity.is_admin)
    if row is None:
        return problem(404, "no such job", "check the id; jobs of other users are not visible")
    if row.status in ("queued", "running"):
        services.cancel(job_id, identity.user_id, identity.is_admin)
        return JSONResponse({"id": job_id, "cancelling": True}, status_code=202)
    return JSONResponse({"id": job_id, "cancelling": False, "status": row.status})


async def create_token(request: Request) -> Response:
    identity: Identity = request.state.identity
    body = await _json(request)
    if isinstance(body, Response):
        return body
    name = str(body.get("name") or "token")[:100]
    try:
        scopes = parse_scopes(body.get("scopes") or ["read", "write"])
    except ValueError as error:
        return problem(422, "unknown scope", str(error), field="scopes")
    if "admin" in scopes and not identity.is_admin:
        return problem(403, "admin scope needs an admin", "ask for read and write only")
    issued = generate_api_token()
    async with request.app.state.services.database.transaction() as session:
        record = await user_rows.create_token(
            session, identity.user_id, name, hash_api_token(issued.token), scopes
        )
    # The token itself is shown this once; only its hash is stored.
    return JSONResponse(
        {
            "id": record.id,
            "name": record.name,
            "scopes": list(record.scopes),
            "token": issued.token,
        },
        status_code=201,
    )


async def revoke_token(request: Request) -> Response:
    identity: Identity = request.state.identity
    try:
        token_id = int(request.path_params["token_id"])
    except ValueError:
        return problem(404, "no such token", "token ids are numbers")
    async with request.app.state.services.database.transaction() as session:
        done = await user_rows.revoke_token(
            session, token_id, identity.user_id, admin=identity.is_admin
        )
    if not done:
        return problem(404, "no such token", "it does not exist, is revoked, or is not yours")
    request.app.state.services.auth.forget_tokens()
    return Response(status_code=204)


async def create_user(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "ask an admin to create the account")
    body = await _json(request)
    if isinstance(body, Response):
        return body
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        return problem(422, "bad user name", "1 to 64 characters", field="name")
    if not isinstance(password, str) or len(password) < 10:
        return problem(422, "password too short", "at least 10 characters", field="password")
    role = body.get("role", "user")
    if role not in ("user", "admin"):
        return problem(422, "unknown role", "role is 'user' or 'admin'", field="role")
    async with request.app.state.services.database.transaction() as session:
        if await user_rows.get_user_by_name(session, name) is not None:
            return problem(409, "user exists", f"{name!r} is taken", field="name")
        user = await user_rows.create_user(
            session, name, role=role, password_hash=hash_password(password)
        )
    return JSONResponse({"id": user.id, "name": user.name, "role": user.role}, status_code=201)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > 1 << 20:
        return problem(413, "body too large", "at most 1 MiB")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        return problem(400, "body is not JSON", str(error))
    if not isinstance(body, dict):
        return problem(422, "body must be a JSON object", "send {...}")
    return body


def routes() -> list[Route]:
    return [
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/auth/logout", logout, methods=["POST"]),
        Route("/api/auth/me", me),
        Route("/api/jobs", list_jobs),
        Route("/api/jobs/{job_id}", get_job, methods=["GET"]),
        Route("/api/jobs/{job_id}", cancel_job, methods=["DELETE"]),
        Route("/api/tokens", create_token, methods=["POST"]),
        Route("/api/tokens/{token_id}", revoke_token, methods=["DELETE"]),
        Route("/api/users", create_user, methods=["POST"]),
    ]
