"""Accepting a job: parse, validate, bound, persist, enqueue. Shared by ComfyUI's ``POST
/prompt`` and rxgen's ``POST /api/jobs``, which differ only in how they phrase a refusal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from components.workflow.comfy_api import api_to_graph
from components.workflow.graph import Graph
from components.workflow.input_files import input_files
from components.workflow.limits import comfy_limits_error, over_limits
from components.workflow.validate import validate
from drivers.store import jobs as job_rows
from drivers.store.records import AlreadyExists
from webapp.auth import Identity
from webapp.file_access import may_read
from webapp.services import new_job


@dataclass(frozen=True)
class Accepted:
    job_id: str
    number: int


@dataclass(frozen=True)
class Refused:
    """Why a prompt was not queued, in ComfyUI's shape (``error`` + ``node_errors``)."""

    kind: str
    message: str
    node_errors: dict[str, Any] = field(default_factory=dict)
    comfy: dict[str, Any] | None = None

    def comfy_body(self) -> dict[str, Any]:
        if self.comfy is not None:
            return self.comfy
        error = {"type": self.kind, "message": self.message, "details": "", "extra_info": {}}
        return {"error": error, "node_errors": self.node_errors}


async def submit_prompt(
    services: Any,
    identity: Identity,
    prompt: Any,
    *,
    job_id: str | None = None,
    client_id: str | None = None,
    priority: int = 0,
    front: bool = False,
    pnginfo: dict[str, Any] | None = None,
) -> Accepted | Refused:
    """Queue ``prompt`` for ``identity``; ``pnginfo`` holds extra PNG text chunks its saved
    images carry (ComfyUI's ``extra_pnginfo``: the editor ``workflow``)."""
    if not isinstance(prompt, dict):
        return Refused("invalid_prompt", "the prompt must be an object (API format)")
    try:
        graph = api_to_graph(prompt)
    except ValueError as error:
        return Refused("invalid_prompt", str(error))
    report = validate(graph, services.catalog)
    if not report.accepted:
        comfy: dict[str, Any] = dict(report.comfy_error_response() or {})
        errors: dict[str, Any] = dict(report.comfy_node_errors())
        return Refused("prompt_outputs_failed_validation", _message(comfy), errors, comfy)
    unreadable = await _unreadable_inputs(services, identity, graph)
    if unreadable:
        return Refused("invalid_prompt", next(iter(unreadable.values()))["errors"][0]["message"],
                       unreadable)  # fmt: skip
    limits = None if identity.is_admin else services.config.user_limits
    over = over_limits(graph, limits)
    if over:
        limited = comfy_limits_error(over)
        return Refused("over_limits", _message(limited), dict(limited["node_errors"]), limited)
    async with services.database.transaction() as session:
        try:
            row = await job_rows.insert_job(
                session,
                identity.user_id,
                prompt,
                job_id=job_id or str(uuid.uuid4()),
                client_id=client_id,
                priority=priority,
            )
        except AlreadyExists as error:
            return Refused("duplicate_prompt_id", str(error))
    job = new_job(row.id, identity.user_id, row.number, prompt, priority, front=front)
    services.submit(job, pnginfo)
    return Accepted(row.id, row.number)


async def _unreadable_inputs(services: Any, identity: Identity, graph: Graph) -> dict[str, Any]:
    """Node errors for inputs naming an input-folder file the caller may not read (another
    user's upload): refused as if the file did not exist, which for them it does not."""
    errors: dict[str, Any] = {}
    for named in input_files(graph, services.catalog):
        if await may_read(services, identity, "input", "", named.path):
            continue
        entry = errors.setdefault(
            named.node_id, {"errors": [], "dependent_outputs": [], "class_type": named.class_type}
        )
        entry["errors"].append(
            {
                "type": "value_not_in_list",
                "message": f"no input file {named.path!r}: upload it first (POST /upload/image)",
                "details": f"{named.input_name}: {named.path!r}",
                "extra_info": {"input_name": named.input_name},
            }
        )
    return errors


def _message(comfy: dict[str, Any]) -> str:
    error = comfy.get("error")
    if not isinstance(error, dict):
        return "the prompt is not valid"
    return f"{error.get('message', 'the prompt is not valid')}: {error.get('details', '')}".rstrip(
        ": "
    )
