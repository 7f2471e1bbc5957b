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

from components.nodes.type_styles import type_styles
from components.workflow.formats import WorkflowFormatError, detect_format, to_api_prompt
from drivers.store import jobs as job_rows
from drivers.store import users as user_rows
from drivers.store.records import JobRecord
from webapp import schemas
from webapp.auth import Identity
from webapp.bodies import read_body, read_query
from webapp.file_access import visible_choices
from webapp.openapi import Operation
from webapp.problems import problem
from webapp.security import generate_api_token, hash_api_token, hash_password
from webapp.submission import Refused, submit_prompt

MAX_WORKFLOW_BYTES = 16 << 20


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
    query = read_query(request, schemas.JobQuery)
    if isinstance(query, Response):
        return query
    statuses = [s for s in (query.status or "").split(",") if s]
    services = request.app.state.services

    async def read() -> bytes:
        async with services.database.transaction() as session:
            page = await job_rows.list_jobs(
                session,
                identity.user_id,
                admin=identity.is_admin,
                status=statuses or None,
                limit=query.limit,
                cursor=query.cursor,
            )
        items = [job_json(row) for row in page.items]
        return json.dumps({"items": items, "next_cursor": page.next_cursor}).encode()

    key = ("jobs", identity.user_id, identity.is_admin, query.status, query.limit, query.cursor)
    try:
        body = await services.reads.get(key, read)
    except ValueError as error:
        return problem(422, "bad cursor", str(error), field="cursor")
    return Response(body, media_type="application/json")


async def submit_job(request: Request) -> Response:
    services = request.app.state.services
    body = await read_body(request, schemas.SubmitJob, MAX_WORKFLOW_BYTES)
    if isinstance(body, Response):
        return body
    try:
        prompt = to_api_prompt(body.workflow, services.catalog)
    except (WorkflowFormatError, ValueError) as error:
        return problem(422, "not a workflow rxgen can read", str(error), field="workflow")
    outcome = await submit_prompt(
        services,
        request.state.identity,
        prompt,
        client_id=body.client_id,
        priority=body.priority,
        pnginfo=_document_chunks(body.workflow),
    )
    if isinstance(outcome, Refused):
        return problem(
            400 if outcome.kind != "duplicate_prompt_id" else 409,
            "workflow refused",
            outcome.message,
            field="workflow",
            kind=outcome.kind,
            node_errors=outcome.node_errors,
        )
    return JSONResponse(
        {"id": outcome.job_id, "number": outcome.number, "node_errors": {}}, status_code=201
    )


def _document_chunks(workflow: dict[str, Any]) -> dict[str, Any] | None:
    """The submitted document, for saved PNGs: an editor workflow as ComfyUI stores it
    (``workflow``), an rxgen document under ``rxgen``; an API prompt is already embedded."""
    kind = detect_format(workflow)
    if kind == "editor":
        return {"workflow": workflow}
    if kind == "rxgen":
        return {"rxgen": workflow}
    return None


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
    body = await read_body(request, schemas.TokenBody)
    if isinstance(body, Response):
        return body
    scopes = frozenset(body.scopes)
    if "admin" in scopes and not identity.is_admin:
        return problem(403, "admin scope needs an admin", "ask for read and write only")
    issued = generate_api_token()
    async with request.app.state.services.database.transaction() as session:
        record = await user_rows.create_token(
            session, identity.user_id, body.name, hash_api_token(issued.token), scopes
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
    body = await read_body(request, schemas.UserBody)
    if isinstance(body, Response):
        return body
    async with request.app.state.services.database.transaction() as session:
        if await user_rows.get_user_by_name(session, body.name) is not None:
            return problem(409, "user exists", f"{body.name!r} is taken", field="name")
        user = await user_rows.create_user(
            session, body.name, role=body.role, password_hash=hash_password(body.password)
        )
    return JSONResponse({"id": user.id, "name": user.name, "role": user.role}, status_code=201)


async def list_users(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "ask an admin for the list of accounts")
    async with request.app.state.services.database.transaction() as session:
        users = await user_rows.list_users(session)
    items = [
        {
            "id": u.id,
            "name": u.name,
            "role": u.role,
            "disabled": u.disabled,
            "created_at": u.created_at.isoformat(),
        }
        for u in users
    ]
    return JSONResponse({"items": items})


async def list_tokens(request: Request) -> Response:
    """The caller's API tokens (an admin's list includes everyone's); never the secrets."""
    identity: Identity = request.state.identity
    async with request.app.state.services.database.transaction() as session:
        tokens = await user_rows.list_tokens(
            session, None if identity.is_admin else identity.user_id
        )
    items = [
        {
            "id": t.id,
            "user_id": t.user_id,
            "name": t.name,
            "scopes": list(t.scopes),
            "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        }
        for t in tokens
        if t.revoked_at is None
    ]
    return JSONResponse({"items": items})


async def node_catalog(request: Request) -> Response:
    services = request.app.state.services
    choices = await visible_choices(services, request.state.identity)
    info = services.catalog.to_object_info(choices)
    return JSONResponse({"nodes": info, "types": type_styles(info)})


async def model_lists(request: Request) -> Response:
    services = request.app.state.services
    return JSONResponse(await visible_choices(services, request.state.identity))


def operations() -> list[Operation]:
    S = schemas
    return [
        Operation("POST", "/api/auth/login", login, "Log in; sets the session cookie", "auth",
                  {200: S.Me, 401: S.Problem, 429: S.Problem}, body=S.LoginBody, public=True),
        Operation("POST", "/api/auth/logout", logout, "Log out", "auth", {200: S.Ok}),
        Operation("GET", "/api/auth/me", me, "Who is calling", "auth", {200: S.Me}),
        Operation("GET", "/api/jobs", list_jobs, "List jobs, newest first", "jobs",
                  {200: S.JobPage, 422: S.Problem}, query=S.JobQuery),
        Operation("POST", "/api/jobs", submit_job, "Submit a workflow to run", "jobs",
                  {201: S.Submitted, 400: S.Problem, 422: S.Problem}, body=S.SubmitJob),
        Operation("GET", "/api/jobs/{job_id}", get_job, "One job", "jobs",
                  {200: S.Job, 404: S.Problem}),
        Operation("DELETE", "/api/jobs/{job_id}", cancel_job, "Cancel a queued or running job",
                  "jobs", {200: S.Cancelling, 202: S.Cancelling, 404: S.Problem}),
        Operation("POST", "/api/tokens", create_token, "Issue an API token (shown once)",
                  "tokens", {201: S.IssuedToken, 403: S.Problem, 422: S.Problem},
                  body=S.TokenBody),
        Operation("DELETE", "/api/tokens/{token_id}", revoke_token, "Revoke an API token",
                  "tokens", {204: None, 404: S.Problem}),
        Operation("GET", "/api/users", list_users, "Every account (admins)", "users",
                  {200: S.UserList, 403: S.Problem}),
        Operation("GET", "/api/tokens", list_tokens, "The caller's API tokens", "tokens",
                  {200: S.TokenList}),
        Operation("POST", "/api/users", create_user, "Create a user (admins)", "users",
                  {201: S.User, 403: S.Problem, 409: S.Problem, 422: S.Problem},
                  body=S.UserBody),
        Operation("GET", "/api/nodes", node_catalog, "The node catalog", "catalog",
                  {200: S.NodeCatalog}),
        Operation("GET", "/api/models", model_lists, "Models and input files", "catalog",
                  {200: S.ModelLists}),
    ]  # fmt: skip
