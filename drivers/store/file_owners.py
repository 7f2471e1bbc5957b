"""Which users may read a file of the output, temp or input folder by its name.

Files there are named the way ComfyUI names them (``ComfyUI_00001_.png``), so a name alone
says nothing about whose it is and can be guessed. Every file a job's outputs name is recorded
for the job's owner (a cached node's files for each job that was served them), and every
upload for its uploader. Paths are relative to their folder, with ``/`` separators.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.sql import insert_ignore
from drivers.store.tables import FileOwner, Job, utcnow

FILE_KINDS = ("output", "temp", "input")


async def record_files(
    session: AsyncSession, user_id: int, files: Iterable[tuple[str, str]]
) -> None:
    """Give ``user_id`` read access to each ``(kind, path)``."""
    now = utcnow()
    for kind, path in files:
        if kind not in FILE_KINDS:
            raise ValueError(f"unknown file kind {kind!r}; expected one of {FILE_KINDS}")
        values = {"kind": kind, "path": path, "user_id": user_id, "created_at": now}
        await insert_ignore(session, FileOwner, values)


async def record_job_files(
    session: AsyncSession, job_id: str, files: Iterable[tuple[str, str]]
) -> bool:
    """Record ``files`` for the owner of ``job_id``; False if there is no such job."""
    owner = (await session.execute(select(Job.user_id).where(Job.id == job_id))).scalar()
    if owner is None:
        return False
    await record_files(session, owner, files)
    return True


async def file_owners(session: AsyncSession, kind: str, path: str) -> set[int]:
    """The users who may read ``path`` (empty: nobody recorded it)."""
    statement = select(FileOwner.user_id).where(FileOwner.kind == kind, FileOwner.path == path)
    return {int(user) for user in (await session.execute(statement)).scalars()}


async def owned_paths(session: AsyncSession, kind: str) -> dict[str, set[int]]:
    """Every recorded ``kind`` file and its readers (one query, for listings)."""
    statement = select(FileOwner.path, FileOwner.user_id).where(FileOwner.kind == kind)
    owners: dict[str, set[int]] = {}
    for path, user in await session.execute(statement):
        owners.setdefault(str(path), set()).add(int(user))
    return owners
