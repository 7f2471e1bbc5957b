"""Messages between the executor component, whoever submits jobs, and the node runner driver.

Node outputs never travel in these messages: the runner keeps them in its output store under
the node's cache key, and messages carry :class:`OutputRef` (key, output index) instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rxcore.message import Message, Request


@dataclass(frozen=True, kw_only=True)
class OutputRef:
    """Output ``index`` of the node run whose cache key is ``key``."""

    key: str
    index: int


# -- jobs in ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SubmitJob(Message):
    """Run ``prompt`` (ComfyUI API format). ``outputs`` picks the nodes whose results are wanted;
    empty means every output node (SaveImage, PreviewImage, ...)."""

    job_id: str
    prompt: dict[str, Any]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CancelJob(Message):
    job_id: str


# -- node runner ---------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class RunNode(Request):
    """Run one node; ``inputs`` holds literals and :class:`OutputRef` to upstream results."""

    job_id: str
    node_id: str
    node_type: str
    key: str
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NodeDone(Message):
    """The node ran; its outputs are in the store under ``key``. ``ui`` is what it shows
    (e.g. the images a SaveImage wrote), plain data."""

    request_id: str
    job_id: str
    node_id: str
    key: str
    outputs: int
    ui: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NodeProgress(Message):
    request_id: str
    job_id: str
    node_id: str
    value: int
    max: int
    preview: str | None = None  # an artifact reference, when the node renders previews


@dataclass(frozen=True, kw_only=True)
class InputsMissing(Message):
    """The store no longer holds these keys (evicted); the executor must recompute them."""

    request_id: str
    job_id: str
    node_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Evicted(Message):
    """The store dropped these entries to stay within its byte budget."""

    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ReleaseJob(Message):
    """The job is over: the store may evict what it pinned for it."""

    job_id: str


# -- what the executor reports -------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class JobEvent(Message):
    job_id: str


@dataclass(frozen=True, kw_only=True)
class JobRejected(JobEvent):
    """The prompt did not validate; ``error`` is ComfyUI's 400 body (every problem listed)."""

    error: dict[str, Any]
    text: str


@dataclass(frozen=True, kw_only=True)
class JobStarted(JobEvent):
    to_run: tuple[str, ...]
    cached: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NodeStarted(JobEvent):
    node_id: str


@dataclass(frozen=True, kw_only=True)
class NodeCached(JobEvent):
    node_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NodeExecuted(JobEvent):
    node_id: str
    ui: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NodeFailed(JobEvent):
    node_id: str
    error: str
    message: str


@dataclass(frozen=True, kw_only=True)
class JobProgress(JobEvent):
    """Overall progress (nodes finished of nodes needed), and the running node's own steps."""

    done: int
    total: int
    node_id: str | None = None
    node_value: int = 0
    node_max: int = 0
    preview: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobFinished(JobEvent):
    outputs: dict[str, dict[str, Any]]  # node id -> its ui


@dataclass(frozen=True, kw_only=True)
class JobFailed(JobEvent):
    errors: dict[str, str]  # node id -> message; skipped nodes name the failed upstream
    outputs: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class JobCancelled(JobEvent):
    outputs: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class WorkflowChanged(Message):
    """A saved workflow was created, given a new revision, or deleted (``revision`` 0): sent to
    its owner's other clients (``/api/ws``) so open editors learn of it."""

    workflow_id: str
    user_id: str
    name: str
    revision: int
