"""Persisted jobs: submit, read, list, state transitions and recovery after a restart.

Statuses: ``queued -> running -> finished | failed | cancelled``; ``interrupted`` marks a job
that was running when the server stopped and was not re-queued. Every transition is a single
compare-and-set ``UPDATE ... WHERE status = <expected>``, so concurrent writers (the executor,
a cancel request, a second replica) cannot both move the same job: the loser sees False.

``attempts`` counts how many times a job started running (``mark_running`` adds one).
``recover_after_restart`` runs once at start-up, before anything else touches the queue: jobs
still ``running`` in the database were cut off by the stop. Queued jobs stay queued.

Getters take the requesting user's id and see only that user's jobs (all with ``admin=True``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, delete, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.pagination import decode_cursor, encode_cursor
from drivers.store.records import AlreadyExists, InvalidCursor, JobRecord, Page, job_record
from drivers.store.sql import insert_ignore, rowcount
from drivers.store.tables import JOB_STATUSES, Job, utcnow

RecoveryPolicy = Literal["requeue", "fail"]
ACTIVE: Final = ("queued", "running")
TERMINAL: Final = ("finished", "failed", "cancelled", "interrupted")
DEFAULT_MAX_ATTEMPTS: Final = 3
INTERRUPTED_ERROR: Final = {
    "type": "interrupted",
    "message": "the server stopped while this job was running",
}


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """``job`` after the cancel; ``was`` its status before (``running``: interrupt it now).

    Nothing changed when ``was`` is a terminal status.
    """

    job: JobRecord
    was: str

    @property
    def changed(self) -> bool:
        return self.was in ACTIVE


@dataclass(frozen=True, slots=True)
class Recovery:
    requeued: tuple[str, ...]
    interrupted: tuple[str, ...]


def _visible(user_id: int, admin: bool) -> ColumnElement[bool]:
    return true() if admin else Job.user_id == user_id


async def insert_job(
    session: AsyncSession,
    user_id: int,
    prompt: dict[str, Any],
    *,
    job_id: str | None = None,
    workflow_id: str | None = None,
    priority: int = 0,
    client_id: str | None = None,
    now: datetime | None = None,
) -> JobRecord:
    """A new queued job with the next queue number; ``AlreadyExists`` for a reused id."""
    new_id = job_id or uuid.uuid4().hex
    values = {
        "id": new_id,
        "user_id": user_id,
        "workflow_id": workflow_id,
        "prompt": prompt,
        "priority": priority,
        "status": "queued",
        "client_id": client_id,
        "created_at": now or utcnow(),
        "attempts": 0,
    }
    if await insert_ignore(session, Job, values, returning=[Job.number]) is None:
        raise AlreadyExists(f"job {new_id} already exists")
    job = await _get(session, new_id)
    assert job is not None
    return job


async def get_job(
    session: AsyncSession, job_id: str, user_id: int, *, admin: bool = False
) -> JobRecord | None:
    return await _one(session, Job.id == job_id, _visible(user_id, admin))


async def list_jobs(
    session: AsyncSession,
    user_id: int,
    *,
    admin: bool = False,
    owner: int | None = None,
    status: str | Collection[str] | None = None,
    workflow_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    oldest_first: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[JobRecord]:
    """Jobs by queue number (newest first unless ``oldest_first``), ``limit`` per page.

    Filters: ``status`` (one or several), ``owner`` (admins only; others see their own jobs),
    ``workflow_id``, ``created_after`` (inclusive) and ``created_before`` (exclusive). The
    cursor is keyed on the queue number, so jobs submitted between pages neither repeat nor
    shift the pages that follow.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    statement = select(Job).where(_visible(user_id, admin))
    if admin and owner is not None:
        statement = statement.where(Job.user_id == owner)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        unknown = set(statuses) - set(JOB_STATUSES)
        if unknown:
            raise ValueError(f"unknown job status {sorted(unknown)}; expected {JOB_STATUSES}")
        statement = statement.where(Job.status.in_(statuses))
    if workflow_id is not None:
        statement = statement.where(Job.workflow_id == workflow_id)
    if created_after is not None:
        statement = statement.where(Job.created_at >= created_after)
    if created_before is not None:
        statement = statement.where(Job.created_at < created_before)
    direction = "asc" if oldest_first else "desc"
    listing = f"jobs:{direction}"
    if cursor is not None:
        key = decode_cursor(listing, cursor)
        if len(key) != 1 or not isinstance(key[0], int) or isinstance(key[0], bool):
            raise InvalidCursor(f"malformed cursor {cursor!r}")
        statement = statement.where(Job.number > key[0] if oldest_first else Job.number < key[0])
    order = Job.number.asc() if oldest_first else Job.number.desc()
    rows = [
        job_record(row)
        for row in (await session.execute(statement.order_by(order).limit(limit + 1))).scalars()
    ]
    if len(rows) <= limit:
        return Page(tuple(rows), None)
    rows = rows[:limit]
    return Page(tuple(rows), encode_cursor(listing, [rows[-1].number]))


async def list_queued(session: AsyncSession) -> list[JobRecord]:
    """Every queued job, highest priority first, then by queue number (to rebuild the queue)."""
    statement = (
        select(Job)
        .where(Job.status == "queued")
        .order_by(Job.priority.desc(), Job.number.asc())
        .execution_options(populate_existing=True)
    )
    return [job_record(row) for row in (await session.execute(statement)).scalars()]


async def mark_running(
    session: AsyncSession, job_id: str, *, now: datetime | None = None
) -> JobRecord | None:
    """queued -> running (attempts + 1); None if the job was not queued."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=now or utcnow(), attempts=Job.attempts + 1)
    )
    return await _get(session, job_id) if rowcount(result) == 1 else None


async def mark_finished(
    session: AsyncSession,
    job_id: str,
    outputs: dict[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """running -> finished with ``outputs``; False if the job was not running (e.g. cancelled)."""
    return await _transition(
        session, job_id, ("running",), status="finished", outputs=outputs, error=None, now=now
    )


async def mark_failed(
    session: AsyncSession,
    job_id: str,
    error: dict[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """queued or running -> failed with ``error`` (e.g. a node raised, validation failed)."""
    return await _transition(session, job_id, ACTIVE, status="failed", error=error, now=now)


async def mark_cancelled(
    session: AsyncSession, job_id: str, *, now: datetime | None = None
) -> bool:
    """queued or running -> cancelled, for the executor (no ownership check)."""
    return await _transition(session, job_id, ACTIVE, status="cancelled", now=now)


async def cancel_job(
    session: AsyncSession,
    job_id: str,
    user_id: int,
    *,
    admin: bool = False,
    now: datetime | None = None,
) -> CancelOutcome | None:
    """Cancel a visible job; None if the user cannot see it. See ``CancelOutcome``."""
    while True:
        job = await get_job(session, job_id, user_id, admin=admin)
        if job is None:
            return None
        if job.status not in ACTIVE:
            return CancelOutcome(job, job.status)
        if await _transition(session, job_id, (job.status,), status="cancelled", now=now):
            cancelled = await _get(session, job_id)
            assert cancelled is not None
            return CancelOutcome(cancelled, job.status)
        # It moved between the read and the write: look again.


async def delete_job(
    session: AsyncSession, job_id: str, user_id: int, *, admin: bool = False
) -> bool:
    """Delete a finished (terminal) job from the history; queued/running jobs are kept."""
    statement = delete(Job).where(
        Job.id == job_id, _visible(user_id, admin), Job.status.in_(TERMINAL)
    )
    return rowcount(await session.execute(statement)) == 1


async def recover_after_restart(
    session: AsyncSession,
    policy: RecoveryPolicy = "requeue",
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Recovery:
    """Deal with jobs left ``running`` by a stop (crash, ``kill -9``); queued jobs stay.

    Each is marked ``interrupted`` (with an ``interrupted`` error). With ``policy="requeue"``
    those that have started fewer than ``max_attempts`` times go back to ``queued`` (keeping
    their queue number and the error as a note until they finish); the others, and all of them
    with ``policy="fail"``, stay ``interrupted``, a terminal status.
    """
    if policy not in ("requeue", "fail"):
        raise ValueError(f"unknown recovery policy {policy!r}; expected 'requeue' or 'fail'")
    stopped = now or utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.status == "running")
        .values(status="interrupted", finished_at=stopped, error=INTERRUPTED_ERROR)
        .returning(Job.id, Job.attempts)
    )
    interrupted = {job_id: attempts for job_id, attempts in result}
    requeue = sorted(
        job_id
        for job_id, attempts in interrupted.items()
        if policy == "requeue" and attempts < max_attempts
    )
    if requeue:
        await session.execute(
            update(Job)
            .where(Job.id.in_(requeue), Job.status == "interrupted")
            .values(status="queued", started_at=None, finished_at=None)
        )
    left = sorted(set(interrupted) - set(requeue))
    return Recovery(requeued=tuple(requeue), interrupted=tuple(left))


async def _transition(
    session: AsyncSession,
    job_id: str,
    expected: Collection[str],
    *,
    status: str,
    now: datetime | None,
    **values: Any,
) -> bool:
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(list(expected)))
        .values(status=status, finished_at=now or utcnow(), **values)
    )
    return rowcount(result) == 1


async def _get(session: AsyncSession, job_id: str) -> JobRecord | None:
    return await _one(session, Job.id == job_id)


async def _one(session: AsyncSession, *where: ColumnElement[bool]) -> JobRecord | None:
    statement = select(Job).where(*where).execution_options(populate_existing=True)
    row = (await session.execute(statement)).scalar_one_or_none()
    return None if row is None else job_record(row)
