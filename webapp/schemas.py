"""The shapes of rxgen's REST API: request bodies, query strings and answers.

Handlers parse with these models and the OpenAPI document is generated from them, so a client
generated from ``/openapi.json`` and the server agree by construction.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "finished", "failed", "cancelled", "interrupted"]
Role = Literal["user", "admin"]
Scope = Literal["read", "write", "admin"]


class Problem(BaseModel):
    """An error (RFC 9457 problem document); ``field`` names the input that was wrong."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    status: int
    title: str
    detail: str
    field: str | None = None


# --- auth -----------------------------------------------------------------------------------


class LoginBody(BaseModel):
    username: str = Field(
        min_length=1, max_length=64, validation_alias=AliasChoices("username", "name")
    )
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """The caller; ``csrf_token`` (session logins only) goes in ``X-CSRF-Token`` on writes."""

    id: int
    name: str
    role: Role
    via: str
    csrf_token: str | None = None


class Ok(BaseModel):
    ok: bool = True


# --- jobs -----------------------------------------------------------------------------------


class JobQuery(BaseModel):
    status: str | None = Field(
        default=None,
        pattern=r"^(queued|running|finished|failed|cancelled|interrupted)"
        r"(,(queued|running|finished|failed|cancelled|interrupted))*$",
        description="comma-separated statuses to keep",
    )
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)


class Job(BaseModel):
    id: str
    number: int
    user_id: int
    status: JobStatus
    priority: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    prompt: dict[str, Any]


class JobPage(BaseModel):
    items: list[Job]
    next_cursor: str | None


class SubmitJob(BaseModel):
    workflow: dict[str, Any] = Field(
        description="an rxgen document, a ComfyUI API prompt or a ComfyUI editor workflow"
    )
    priority: int = Field(default=0, ge=-100, le=100, description="higher runs sooner")
    client_id: str | None = Field(default=None, max_length=200)


class Submitted(BaseModel):
    id: str
    number: int
    node_errors: dict[str, Any]


class Cancelling(BaseModel):
    id: str
    cancelling: bool
    status: JobStatus | None = None


# --- workflows ------------------------------------------------------------------------------


class WorkflowBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    document: dict[str, Any]
    revision: int | None = Field(
        default=None, description="the revision this edit is based on (updates only)"
    )


class WorkflowSummary(BaseModel):
    id: str
    name: str
    revision: int
    created_at: str
    updated_at: str


class Workflow(WorkflowSummary):
    document: dict[str, Any]


class WorkflowPage(BaseModel):
    items: list[WorkflowSummary]
    next_cursor: str | None


class PageQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=512)


class StaleWorkflow(Problem):
    current: Workflow


# --- tokens and users -----------------------------------------------------------------------


def _read_write() -> list[Scope]:
    return ["read", "write"]


class TokenBody(BaseModel):
    name: str = Field(default="token", min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=_read_write, min_length=1)


class IssuedToken(BaseModel):
    """The token is shown this once; only its hash is stored."""

    id: int
    name: str
    scopes: list[str]
    token: str


class UserBody(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: Role = "user"


class User(BaseModel):
    id: int
    name: str
    role: Role


class UserEntry(User):
    disabled: bool
    created_at: str


class UserList(BaseModel):
    items: list[UserEntry]


class TokenEntry(BaseModel):
    id: int
    user_id: int
    name: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None


class TokenList(BaseModel):
    items: list[TokenEntry]


# --- catalog and models ---------------------------------------------------------------------


class TypeStyle(BaseModel):
    color: str


class NodeCatalog(BaseModel):
    """Every node type (ComfyUI's object_info shape) and how each value type is drawn."""

    nodes: dict[str, dict[str, Any]]
    types: dict[str, TypeStyle]


class ModelLists(BaseModel):
    checkpoints: list[str]
    input_images: list[str]
    input_videos: list[str]


# --- artifacts ------------------------------------------------------------------------------


class ArtifactQuery(BaseModel):
    kind: Literal["upload", "output"] | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)


class Artifact(BaseModel):
    sha256: str
    kind: str
    name: str | None
    media_type: str
    width: int | None
    height: int | None
    size: int
    created_at: str
    url: str
    thumbnail_url: str | None


class ArtifactPage(BaseModel):
    items: list[Artifact]
    next_cursor: str | None


class ArtifactOrigin(BaseModel):
    """The job that produced an artifact and the prompt it ran."""

    job_id: str
    node_id: str
    prompt: dict[str, Any]


class Uploaded(BaseModel):
    """Name it as LoadImage's ``image`` input."""

    name: str
    subfolder: str
    type: Literal["input"] = "input"
    sha256: str


class UploadForm(BaseModel):
    file: bytes = Field(description="the image (PNG, JPEG, WebP, GIF...); re-encoded on arrival")


# --- the debugger's log access --------------------------------------------------------------

LOG_KINDS = ("event", "sink", "state", "snapshot", "header")


class LogSession(BaseModel):
    name: str
    live: bool
    size_bytes: int
    events: int
    first_seq: int | None
    last_seq: int | None
    first_time: float | None
    last_time: float | None
    error: str | None


class LogSessions(BaseModel):
    items: list[LogSession]
    live: str | None = Field(description="the session this server is recording now")
    read_only: bool = Field(
        default=False, description="`rxgen debug`: sessions can be read, not exported or imported"
    )


class LogRecordQuery(BaseModel):
    kind: str = Field(
        default="event,sink,state",
        pattern=r"^(event|sink|state|snapshot|header)(,(event|sink|state|snapshot|header))*$",
        description="comma-separated record kinds",
    )
    driver: str | None = Field(default=None, max_length=500, description="comma-separated")
    job: str | None = Field(default=None, max_length=2000, description="comma-separated job ids")
    user: str | None = Field(default=None, max_length=500, description="comma-separated user ids")
    start: int | None = Field(default=None, ge=0, description="first seq")
    end: int | None = Field(default=None, ge=0, description="last seq")
    since: float | None = Field(default=None, ge=0, description="epoch seconds")
    until: float | None = Field(default=None, ge=0, description="epoch seconds")
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,18}(\.[0-9]{1,9})?$")
    limit: int = Field(default=100, ge=1, le=1000)

    def kinds(self) -> list[str]:
        return [k for k in self.kind.split(",") if k]


class LogRecord(BaseModel):
    kind: str
    seq: int
    name: str
    value: Any
    jobs: list[str]
    users: list[str]
    time: float | None
    change: int | None = None


class LogPage(BaseModel):
    items: list[LogRecord]
    next_cursor: str | None


class LogStateQuery(BaseModel):
    at: int = Field(ge=0, description="the event seq")
    path: str = Field(default="", max_length=1000, description="a JSON pointer into the state")


class LogState(BaseModel):
    seq: int
    path: str
    state: Any


class LogDiffQuery(BaseModel):
    a: int = Field(ge=0)
    b: int = Field(ge=0)
    path: str = Field(default="", max_length=1000)


class LogChange(BaseModel):
    op: str
    path: str
    before: Any
    after: Any


class LogDiff(BaseModel):
    a: int
    b: int
    changes: list[LogChange]


class LogVerdict(BaseModel):
    ok: bool
    events: int
    sinks: int
    states: int
    divergence: str | None


class LogImported(BaseModel):
    name: str = Field(description="the imported session, now listed by GET /api/logs")
    written: int
    already_there: int
