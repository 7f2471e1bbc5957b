"""What the repositories return: frozen records detached from any session, and their errors.

Records are plain values (no lazy loading, safe to hand to another task or thread); the
repositories build them from ORM rows with the ``*_record`` functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from drivers.store.tables import ApiToken, Blob, Job, User, Workflow, WorkflowRevision

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    role: str
    created_at: datetime
    disabled: bool
    password_hash: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    user_id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    id: str
    user_id: int
    name: str
    document: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    workflow_id: str
    revision: int
    name: str
    document: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    number: int
    user_id: int
    workflow_id: str | None
    prompt: dict[str, Any]
    priority: int
    status: str
    client_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """A blob as one user holds it."""

    sha256: str
    ext: str
    size: int
    media_type: str
    width: int | None
    height: int | None
    user_id: int
    name: str | None
    kind: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class JobArtifactRecord:
    job_id: str
    node_id: str
    position: int
    sha256: str
    ext: str
    media_type: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


class StaleRevision(Exception):
    """A write named a revision that is no longer current; ``current`` is the stored one."""

    def __init__(self, current: WorkflowRecord) -> None:
        super().__init__(f"workflow {current.id} is at revision {current.revision}")
        self.current = current


class InvalidCursor(ValueError):
    """A pagination cursor that this listing did not issue."""


class AlreadyExists(Exception):
    """A row with this unique key (user name, job id, token hash) already exists."""


def user_record(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        disabled=row.disabled,
        password_hash=row.password_hash,
    )


def token_record(row: ApiToken) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def workflow_record(row: Workflow) -> WorkflowRecord:
    return WorkflowRecord(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        document=row.document,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def revision_record(row: WorkflowRevision) -> RevisionRecord:
    return RevisionRecord(
        workflow_id=row.workflow_id,
        revision=row.revision,
        name=row.name,
        document=row.document,
        created_at=row.created_at,
    )


def job_record(row: Job) -> JobRecord:
    return JobRecord(
        id=row.id,
        number=row.number,
        user_id=row.user_id,
        workflow_id=row.workflow_id,
        prompt=row.prompt,
        priority=row.priority,
        status=row.status,
        client_id=row.client_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outputs=row.outputs,
        error=row.error,
        attempts=row.attempts,
    )


def artifact_record(
    blob: Blob, *, user_id: int, name: str | None, kind: str, created_at: datetime
) -> ArtifactRecord:
    return ArtifactRecord(
        sha256=blob.sha256,
        ext=blob.ext,
        size=blob.size,
        media_type=blob.media_type,
        width=blob.width,
        height=blob.height,
        user_id=user_id,
        name=name,
        kind=kind,
        created_at=created_at,
    )
