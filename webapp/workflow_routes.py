"""``/api/workflows``: a user's saved workflows, with revisions.

A write names the revision it was based on (``revision`` in the body, or ``If-Match``); when
someone saved in between, the answer is 409 with the current document, so the client can merge
instead of overwriting. Another user's workflow is a 404. The document is checked to be a
workflow rxgen can read (any of the three formats) before it is stored.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from components.workflow.comfy_api import api_to_graph
from components.workflow.formats import WorkflowFormatError, to_api_prompt
from components.workflow.protocol import WorkflowChanged
from drivers.store import workflows as rows
from drivers.store.records import StaleRevision, WorkflowRecord
from webapp.auth import Identity
from webapp.bodies import read_body, read_query
from webapp.openapi import Operation
from webapp.problems import problem
from webapp.schemas import PageQuery, Problem, StaleWorkflow, Workflow, WorkflowBody, WorkflowPage

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
    body = await read_body(request, WorkflowBody, MAX_DOCUMENT_BYTES)
    if isinstance(body, Response):
        return body
    refusal = _unreadable(request, body.document)
    if refusal is not None:
        return refusal
    async with request.app.state.services.database.transaction() as session:
        record = await rows.create_workflow(session, identity.user_id, body.name, body.document)
    _announce(request, record.user_id, record.id, record.name, record.revision)
    return JSONResponse(workflow_json(record), status_code=201)


async def listing(request: Request) -> Response:
    identity: Identity = request.state.identity
    query = read_query(request, PageQuery)
    if isinstance(query, Response):
        return query
    async with request.app.state.services.database.transaction() as session:
        try:
            page = await rows.list_workflows(
                session, identity.user_id, admin=identity.is_admin, cursor=query.cursor
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
    body = await read_body(request, WorkflowBody, MAX_DOCUMENT_BYTES)
    if isinstance(body, Response):
        return body
    expected = body.revision
    if expected is None:
        match = request.headers.get("if-match", "").strip('"')
        expected = int(match) if match.isdigit() else None
    if expected is None:
        return problem(
            428,
            "revision required",
            "send the revision you edited as 'revision' or If-Match",
            field="revision",
        )
    refusal = _unreadable(request, body.document)
    if refusal is not None:
        return refusal
    name, document = body.name, body.document
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
    _announce(request, record.user_id, record.id, record.name, record.revision)
    return JSONResponse(workflow_json(record))


async def remove(request: Request) -> Response:
    identity: Identity = request.state.identity
    workflow_id = request.path_params["workflow_id"]
    async with request.app.state.services.database.transaction() as session:
        # Read first: an admin may delete another user's workflow, whose owner is told.
        record = await rows.get_workflow(
            session, workflow_id, identity.user_id, admin=identity.is_admin
        )
        done = record is not None and await rows.delete_workflow(
            session, workflow_id, identity.user_id, admin=identity.is_admin
        )
    if not done or record is None:
        return _missing()
    _announce(request, record.user_id, request.path_params["workflow_id"], "", 0)
    return Response(status_code=204)


def _announce(request: Request, owner: int, workflow_id: str, name: str, revision: int) -> None:
    """Tell the owner's other clients (``/api/ws``, topic ``workflows``); revision 0: deleted."""
    request.app.state.services.hub.publish(
        WorkflowChanged(workflow_id=workflow_id, user_id=str(owner), name=name, revision=revision)
    )


def _unreadable(request: Request, document: dict[str, Any]) -> Response | None:
    try:
        api_to_graph(to_api_prompt(document, request.app.state.services.catalog))
    except (WorkflowFormatError, ValueError) as error:
        return problem(422, "not a workflow rxgen can read", str(error), field="document")
    return None


def _missing() -> Response:
    return problem(404, "no such workflow", "check the id; other users' workflows are not visible")


def operations() -> list[Operation]:
    return [
        Operation("POST", "/api/workflows", create, "Save a new workflow", "workflows",
                  {201: Workflow, 422: Problem}, body=WorkflowBody),
        Operation("GET", "/api/workflows", listing, "List workflows", "workflows",
                  {200: WorkflowPage, 422: Problem}, query=PageQuery),
        Operation("GET", "/api/workflows/{workflow_id}", read, "One workflow", "workflows",
                  {200: Workflow, 404: Problem}),
        Operation("PUT", "/api/workflows/{workflow_id}", update,
                  "Save a new revision (409 with the current one when stale)", "workflows",
                  {200: Workflow, 404: Problem, 409: StaleWorkflow, 422: Problem,
                   428: Problem}, body=WorkflowBody),
        Operation("DELETE", "/api/workflows/{workflow_id}", remove, "Delete a workflow",
                  "workflows", {204: None, 404: Problem}),
    ]  # fmt: skip
