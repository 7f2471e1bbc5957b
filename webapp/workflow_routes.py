"""``/api/workflows``: a user's saved workflows, with revisions.

A write names the revision it was based on (``revision`` in the body, or ``If-Match``); when
someone saved in between, the answer is 409 with the current document, so the client can merge
instead of overwriting. Another user's workflow is a 404. The document is checked to be a
workflow rxgen can read (any of the three formats) before it is stored.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from components.workflow.comfy_api import api_to_graph
from components.workflow.formats import WorkflowFormatError, to_api_prompt
from drivers.store import workflows as rows
from drivers.store.records import StaleRevision, WorkflowRecord
from webapp.auth import Identity
from webapp.problems import problem

MAX_DOCUMENT_BYTES = 16 << 20


def workflow_json(record: WorkflowRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "revision": record.revision,
        "document": record.document,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


async def create(request: Request) -> Response:
    identity: Identity = request.state.identity
    body = await _body(request)
    if isinstance(body, Response):
        return body
    checked = _checked(request, body)
    if isinstance(checked, Response):
        return checked
    name, document = checked
    async with request.app.state.services.database.transaction() as session:
        record = await rows.create_workflow(session, identity.user_id, name, document)
    return JSONResponse(workflow_json(record), status_code=201)


async def listing(request: Request) -> Response:
    identity: Identity = request.state.identity
    async with request.app.state.services.database.transaction() as session:
        try:
            page = await rows.list_workflows(
                session,
                identity.user_id,
                admin=identity.is_admin,
                cursor=request.query_params.get("cursor"),
            )
        except ValueError as error:
            return problem(422, "bad cursor", str(error), field="cursor")
    items = [{k: v for k, v in workflow_json(r).items() if k != "document"} for r in page.items]
    return JSONResponse({"items": items, "next_cursor": page.next_cursor})


async def read(request: Request) -> Response:
    identity: Identity = request.state.identity
    async with request.app.state.services.database.transaction() as session:
        record = await rows.get_workflow(
            session, request.path_params["workflow_id"], identity.user_id, admin=identity.is_admin
        )
    if record is None:
        return _missing()
    return JSONResponse(workflow_json(record), headers={"ETag": f'"{record.revision}"'})


async def update(request: Request) -> Response:
    identity: Identity = request.state.identity
    body = await _body(request)
    if isinstance(body, Response):
        return body
    revision = body.get("revision", request.headers.get("if-match", "").strip('"') or None)
    try:
        expected = int(revision) if revision is not None else None
    except (TypeError, ValueError):
        expected = None
    if expected is None:
        return problem(
            428, "revision required", "send the revision you edited as 'revision' or If-Match"
        )
    checked = _checked(request, body)
    if isinstance(checked, Response):
        return checked
    name, document = checked
    async with request.app.state.services.database.transaction() as session:
        try:
            record = await rows.update_workflow(
                session,
                request.path_params["workflow_id"],
                identity.user_id,
                expected_revision=expected,
                document=document,
                name=name,
                admin=identity.is_admin,
            )
        except StaleRevision as stale:
            return JSONResponse(
                {
                    "title": "stale revision",
                    "detail": f"you edited revision {expected}; the workflow is now at "
                    f"{stale.current.revision}. Merge with the current document and retry",
                    "current": workflow_json(stale.current),
                },
                status_code=409,
            )
    if record is None:
        return _missing()
    return JSONResponse(workflow_json(record))


async def remove(request: Request) -> Response:
    identity: Identity = request.state.identity
    async with request.app.state.services.database.transaction() as session:
        done = await rows.delete_workflow(
            session, request.path_params["workflow_id"], identity.user_id, admin=identity.is_admin
        )
    return Response(status_code=204) if done else _missing()


def _checked(request: Request, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | Response:
    name, document = body.get("name"), body.get("document")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        return problem(422, "bad name", "a name of 1 to 200 characters", field="name")
    if not isinstance(document, dict):
        return problem(422, "bad document", "send the workflow as a JSON object", field="document")
    try:
        api_to_graph(to_api_prompt(document, request.app.state.services.catalog))
    except (WorkflowFormatError, ValueError) as error:
        return problem(422, "not a workflow rxgen can read", str(error), field="document")
    return name, document


def _missing() -> Response:
    return problem(404, "no such workflow", "check the id; other users' workflows are not visible")


async def _body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    if len(raw) > MAX_DOCUMENT_BYTES:
        return problem(413, "body too large", f"at most {MAX_DOCUMENT_BYTES >> 20} MiB")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        return problem(400, "body is not JSON", str(error))
    if not isinstance(body, dict):
        return problem(422, "body must be a JSON object", 'send {"name": ..., "document": ...}')
    return body


def routes() -> list[Route]:
    return [
        Route("/api/workflows", create, methods=["POST"]),
        Route("/api/workflows", listing, methods=["GET"]),
        Route("/api/workflows/{workflow_id}", read, methods=["GET"]),
        Route("/api/workflows/{workflow_id}", update, methods=["PUT"]),
        Route("/api/workflows/{workflow_id}", remove, methods=["DELETE"]),
    ]
