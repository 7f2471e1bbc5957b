"""Who holds which artifact: blobs (one per content) and per-user ownership rows.

The bytes live in the ``ArtifactStore`` on disk; these tables record each blob once and which
users hold it, so identical uploads from two users share one file, and each user sees only the
artifacts they uploaded or their jobs produced. ``get_artifact`` is the check every download
makes: a user who does not hold the blob gets None (the web layer's 404), even though the file
exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.pagination import decode_cursor, encode_cursor
from drivers.store.records import (
    ArtifactRecord,
    InvalidCursor,
    JobArtifactRecord,
    Page,
    artifact_record,
)
from drivers.store.sql import insert_ignore, rowcount
from drivers.store.tables import ARTIFACT_KINDS, ArtifactOwner, Blob, Job, JobArtifact, utcnow


def _visible(user_id: int, admin: bool) -> ColumnElement[bool]:
    return true() if admin else ArtifactOwner.user_id == user_id


async def record_blob(
    session: AsyncSession,
    sha256: str,
    *,
    ext: str,
    size: int,
    media_type: str,
    width: int | None = None,
    height: int | None = None,
    now: datetime | None = None,
) -> None:
    """Record a stored blob (idempotent: the same content is recorded once)."""
    values = {
        "sha256": sha256,
        "ext": ext,
        "size": size,
        "media_type": media_type,
        "width": width,
        "height": height,
        "created_at": now or utcnow(),
    }
    await insert_ignore(session, Blob, values)


async def claim_artifact(
    session: AsyncSession,
    user_id: int,
    sha256: str,
    *,
    kind: str,
    name: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Give ``user_id`` a hold on a recorded blob; False if they already held it."""
    if kind not in ARTIFACT_KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}; expected one of {ARTIFACT_KINDS}")
    values = {
        "user_id": user_id,
        "sha256": sha256,
        "kind": kind,
        "name": name,
        "created_at": now or utcnow(),
    }
    return await insert_ignore(session, ArtifactOwner, values) is not None


async def get_artifact(
    session: AsyncSession, sha256: str, user_id: int, *, admin: bool = False
) -> ArtifactRecord | None:
    """The blob as ``user_id`` holds it; None if they do not (admins: any holder's row)."""
    statement = (
        select(Blob, ArtifactOwner)
        .join(ArtifactOwner, ArtifactOwner.sha256 == Blob.sha256)
        .where(Blob.sha256 == sha256, _visible(user_id, admin))
        .order_by((ArtifactOwner.user_id != user_id), ArtifactOwner.created_at)
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    blob, owner = row
    return artifact_record(
        blob, user_id=owner.user_id, name=owner.name, kind=owner.kind, created_at=owner.created_at
    )


async def list_artifacts(
    session: AsyncSession,
    user_id: int,
    *,
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ArtifactRecord]:
    """``user_id``'s artifacts, newest first (the gallery)."""
    statement = (
        select(Blob, ArtifactOwner)
        .join(ArtifactOwner, ArtifactOwner.sha256 == Blob.sha256)
        .where(ArtifactOwner.user_id == user_id)
    )
    if kind is not None:
        statement = statement.where(ArtifactOwner.kind == kind)
    if cursor is not None:
        key = decode_cursor("artifacts", cursor)
        try:
            created = datetime.fromisoformat(str(key[0]))
            last = str(key[1])
        except (IndexError, ValueError) as exc:
            raise InvalidCursor(f"malformed cursor {cursor!r}") from exc
        statement = statement.where(
            (ArtifactOwner.created_at < created)
            | ((ArtifactOwner.created_at == created) & (ArtifactOwner.sha256 < last))
        )
    statement = statement.order_by(
        ArtifactOwner.created_at.desc(), ArtifactOwner.sha256.desc()
    ).limit(limit + 1)
    records = [
        artifact_record(
            blob,
            user_id=owner.user_id,
            name=owner.name,
            kind=owner.kind,
            created_at=owner.created_at,
        )
        for blob, owner in (await session.execute(statement))
    ]
    if len(records) <= limit:
        return Page(tuple(records), None)
    records = records[:limit]
    last_record = records[-1]
    key_out = [last_record.created_at.isoformat(), last_record.sha256]
    return Page(tuple(records), encode_cursor("artifacts", key_out))


async def release_artifact(session: AsyncSession, user_id: int, sha256: str) -> bool:
    """Drop ``user_id``'s hold (the blob and other users' holds stay)."""
    statement = delete(ArtifactOwner).where(
        ArtifactOwner.user_id == user_id, ArtifactOwner.sha256 == sha256
    )
    return rowcount(await session.execute(statement)) == 1


async def link_job_output(
    session: AsyncSession,
    job_id: str,
    node_id: str,
    position: int,
    sha256: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Record a job's output file and give the job's owner a hold on it.

    False if the job does not exist. The blob must have been recorded.
    """
    owner = (await session.execute(select(Job.user_id).where(Job.id == job_id))).scalar()
    if owner is None:
        return False
    values = {"job_id": job_id, "node_id": node_id, "position": position, "sha256": sha256}
    await insert_ignore(session, JobArtifact, values)
    await claim_artifact(session, owner, sha256, kind="output", now=now)
    return True


async def list_job_outputs(
    session: AsyncSession, job_id: str, user_id: int, *, admin: bool = False
) -> list[JobArtifactRecord] | None:
    """A visible job's output files by node and position; None if the job is not visible."""
    job = select(Job.user_id).where(Job.id == job_id)
    if not admin:
        job = job.where(Job.user_id == user_id)
    if (await session.execute(job)).scalar() is None:
        return None
    statement = (
        select(JobArtifact, Blob)
        .join(Blob, Blob.sha256 == JobArtifact.sha256)
        .where(JobArtifact.job_id == job_id)
        .order_by(JobArtifact.node_id, JobArtifact.position)
    )
    return [
        JobArtifactRecord(
            job_id=link.job_id,
            node_id=link.node_id,
            position=link.position,
            sha256=link.sha256,
            ext=blob.ext,
            media_type=blob.media_type,
        )
        for link, blob in (await session.execute(statement))
    ]


async def find_origin(
    session: AsyncSession, sha256: str, user_id: int, *, admin: bool = False
) -> tuple[str, str] | None:
    """The (job id, node id) of a visible job that produced ``sha256``; None if there is none."""
    statement = (
        select(JobArtifact.job_id, JobArtifact.node_id)
        .join(Job, Job.id == JobArtifact.job_id)
        .where(JobArtifact.sha256 == sha256)
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    if not admin:
        statement = statement.where(Job.user_id == user_id)
    row = (await session.execute(statement)).first()
    return None if row is None else (str(row[0]), str(row[1]))
