"""Saved workflows with optimistic concurrency and a revision history.

A workflow starts at revision 1; every update names the revision it was based on and moves the
workflow to the next one in a single compare-and-set ``UPDATE``, so two writers from the same
revision cannot both win: the loser gets ``StaleRevision`` carrying the current document. Each
revision's document is kept in ``workflow_revisions``.

Every function takes the requesting user's id and acts only on that user's workflows (all
workflows with ``admin=True``); another user's workflow reads as None (the web layer's 404).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.pagination import decode_cursor, encode_cursor
from drivers.store.records import (
    AlreadyExists,
    InvalidCursor,
    Page,
    RevisionRecord,
    StaleRevision,
    WorkflowRecord,
    revision_record,
    workflow_record,
)
from drivers.store.sql import insert_ignore, rowcount
from drivers.store.tables import Workflow, WorkflowRevision, utcnow


def _visible(user_id: int, admin: bool) -> ColumnElement[bool]:
    return true() if admin else Workflow.user_id == user_id


async def create_workflow(
    session: AsyncSession,
    user_id: int,
    name: str,
    document: dict[str, Any],
    *,
    workflow_id: str | None = None,
    now: datetime | None = None,
) -> WorkflowRecord:
    created = now or utcnow()
    new_id = workflow_id or uuid.uuid4().hex
    values = {
        "id": new_id,
        "user_id": user_id,
        "name": name,
        "document": document,
        "revision": 1,
        "created_at": created,
        "updated_at": created,
    }
    if await insert_ignore(session, Workflow, values) is None:
        raise AlreadyExists(f"workflow {new_id} already exists")
    await _record_revision(session, new_id, 1, name, document, created)
    workflow = await get_workflow(session, new_id, user_id)
    assert workflow is not None
    return workflow


async def get_workflow(
    session: AsyncSession, workflow_id: str, user_id: int, *, admin: bool = False
) -> WorkflowRecord | None:
    statement = select(Workflow).where(Workflow.id == workflow_id, _visible(user_id, admin))
    statement = statement.execution_options(populate_existing=True)
    row = (await session.execute(statement)).scalar_one_or_none()
    return None if row is None else workflow_record(row)


async def list_workflows(
    session: AsyncSession,
    user_id: int,
    *,
    admin: bool = False,
    owner: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[WorkflowRecord]:
    """Most recently updated first; ``owner`` filters by user for admins."""
    statement = select(Workflow).where(_visible(user_id, admin))
    if admin and owner is not None:
        statement = statement.where(Workflow.user_id == owner)
    if cursor is not None:
        key = decode_cursor("workflows", cursor)
        try:
            updated = datetime.fromisoformat(str(key[0]))
            last_id = str(key[1])
        except (IndexError, ValueError) as exc:
            raise InvalidCursor(f"malformed cursor {cursor!r}") from exc
        statement = statement.where(
            (Workflow.updated_at < updated)
            | ((Workflow.updated_at == updated) & (Workflow.id < last_id))
        )
    statement = statement.order_by(Workflow.updated_at.desc(), Workflow.id.desc()).limit(limit + 1)
    rows = [workflow_record(row) for row in (await session.execute(statement)).scalars()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor("workflows", [last.updated_at.isoformat(), last.id])
    return Page(tuple(rows), next_cursor)


async def update_workflow(
    session: AsyncSession,
    workflow_id: str,
    user_id: int,
    *,
    expected_revision: int,
    document: dict[str, Any] | None = None,
    name: str | None = None,
    admin: bool = False,
    now: datetime | None = None,
) -> WorkflowRecord | None:
    """The workflow at its next revision; None if not visible; ``StaleRevision`` on conflict."""
    current = await get_workflow(session, workflow_id, user_id, admin=admin)
    if current is None:
        return None
    if current.revision != expected_revision:
        raise StaleRevision(current)
    updated = now or utcnow()
    new_name = current.name if name is None else name
    new_document = current.document if document is None else document
    result = await session.execute(
        update(Workflow)
        .where(Workflow.id == workflow_id, Workflow.revision == expected_revision)
        .values(
            name=new_name,
            document=new_document,
            revision=expected_revision + 1,
            updated_at=updated,
        )
    )
    if rowcount(result) != 1:
        # Another writer moved it between our read and our write.
        latest = await get_workflow(session, workflow_id, user_id, admin=admin)
        if latest is None:
            return None
        raise StaleRevision(latest)
    await _record_revision(
        session, workflow_id, expected_revision + 1, new_name, new_document, updated
    )
    return await get_workflow(session, workflow_id, user_id, admin=admin)


async def delete_workflow(
    session: AsyncSession,
    workflow_id: str,
    user_id: int,
    *,
    admin: bool = False,
    expected_revision: int | None = None,
) -> bool:
    """Delete a visible workflow (and its history); with ``expected_revision``, only that one.

    False if there is no such workflow for this user; ``StaleRevision`` if it moved on.
    """
    statement = delete(Workflow).where(Workflow.id == workflow_id, _visible(user_id, admin))
    if expected_revision is not None:
        statement = statement.where(Workflow.revision == expected_revision)
    if rowcount(await session.execute(statement)) == 1:
        return True
    current = await get_workflow(session, workflow_id, user_id, admin=admin)
    if current is None:
        return False
    raise StaleRevision(current)


async def list_revisions(
    session: AsyncSession, workflow_id: str, user_id: int, *, admin: bool = False
) -> list[RevisionRecord] | None:
    """The workflow's history, oldest first; None if the workflow is not visible."""
    if await get_workflow(session, workflow_id, user_id, admin=admin) is None:
        return None
    statement = (
        select(WorkflowRevision)
        .where(WorkflowRevision.workflow_id == workflow_id)
        .order_by(WorkflowRevision.revision)
    )
    return [revision_record(row) for row in (await session.execute(statement)).scalars()]


async def get_revision(
    session: AsyncSession, workflow_id: str, revision: int, user_id: int, *, admin: bool = False
) -> RevisionRecord | None:
    if await get_workflow(session, workflow_id, user_id, admin=admin) is None:
        return None
    row = await session.get(WorkflowRevision, (workflow_id, revision))
    return None if row is None else revision_record(row)


async def _record_revision(
    session: AsyncSession,
    workflow_id: str,
    revision: int,
    name: str,
    document: dict[str, Any],
    created: datetime,
) -> None:
    session.add(
        WorkflowRevision(
            workflow_id=workflow_id,
            revision=revision,
            name=name,
            document=document,
            created_at=created,
        )
    )
    await session.flush()
