"""rxgen's job events as the messages ComfyUI's `/ws` sends, so its clients work unchanged.

ComfyUI announces a run with ``execution_start``, the nodes it reuses with
``execution_cached``, each node it starts with ``executing`` (``node: null`` once the prompt is
done), sampling steps with ``progress``, each output node's result with ``executed``, and the
end with ``execution_success``, ``execution_error`` or ``execution_interrupted``. Timestamps are
milliseconds since the epoch, given by the caller (this module reads no clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.workflow.protocol import (
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobRejected,
    JobStarted,
    NodeCached,
    NodeExecuted,
    NodeFailed,
    NodeStarted,
)

Message = dict[str, Any]


def comfy_messages(
    event: JobEvent, timestamp_ms: int, node_types: dict[str, str] | None = None
) -> list[Message]:
    """The ComfyUI messages for one event (none for events ComfyUI has no counterpart of).

    ``node_types`` maps the job's node ids to their types, for error messages.
    """
    prompt_id = event.job_id
    types = node_types or {}
    if isinstance(event, JobStarted):
        return [_msg("execution_start", prompt_id=prompt_id, timestamp=timestamp_ms)]
    if isinstance(event, NodeCached):
        nodes = list(event.node_ids)
        return [_msg("execution_cached", nodes=nodes, prompt_id=prompt_id, timestamp=timestamp_ms)]
    if isinstance(event, NodeStarted):
        return [
            _msg("executing", node=event.node_id, display_node=event.node_id, prompt_id=prompt_id)
        ]
    if isinstance(event, JobProgress):
        if event.node_id is None or not event.node_max:
            return []
        return [
            _msg(
                "progress",
                value=event.node_value,
                max=event.node_max,
                prompt_id=prompt_id,
                node=event.node_id,
            )
        ]
    if isinstance(event, NodeExecuted):
        shown = comfy_ui(event.ui)
        if not shown:
            return []
        return [
            _msg(
                "executed",
                node=event.node_id,
                display_node=event.node_id,
                output=shown,
                prompt_id=prompt_id,
            )
        ]
    if isinstance(event, JobFinished):
        return [
            _msg("executing", node=None, prompt_id=prompt_id),
            _msg("execution_success", prompt_id=prompt_id, timestamp=timestamp_ms),
        ]
    if isinstance(event, JobFailed):
        node_id, message = _first_error(event.errors)
        return [
            _msg(
                "execution_error",
                prompt_id=prompt_id,
                node_id=node_id,
                node_type=types.get(node_id, ""),
                executed=sorted(event.outputs),
                exception_message=message,
                exception_type="NodeError",
                traceback=[],
                current_inputs={},
                current_outputs={},
                timestamp=timestamp_ms,
            )
        ]
    if isinstance(event, JobCancelled):
        return [
            _msg(
                "execution_interrupted",
                prompt_id=prompt_id,
                node_id=None,
                node_type=None,
                executed=sorted(event.outputs),
                timestamp=timestamp_ms,
            )
        ]
    if isinstance(event, NodeFailed | JobRejected):
        return []  # ComfyUI reports these through execution_error / the HTTP 400 answer
    return []


def status_message(queue_remaining: int, client_id: str | None = None) -> Message:
    """ComfyUI's ``status``: sent on connect (with the client's ``sid``) and on queue changes."""
    data: Message = {"status": {"exec_info": {"queue_remaining": queue_remaining}}}
    if client_id is not None:
        data["sid"] = client_id
    return {"type": "status", "data": data}


def _msg(kind: str, **data: Any) -> Message:
    return {"type": kind, "data": data}


def _first_error(errors: dict[str, str]) -> tuple[str, str]:
    # The failing node is the one whose message does not blame an upstream node.
    for node_id, message in errors.items():
        if "upstream" not in message:
            return node_id, message
    node_id = next(iter(errors), "")
    return node_id, errors.get(node_id, "")


INTERNAL_UI_PREFIX = "rxgen_"


def comfy_ui(ui: Mapping[str, Any]) -> dict[str, Any]:
    """A node's ui as ComfyUI clients see it: rxgen's own bookkeeping (``rxgen_*`` keys, such
    as the model identities a loader records for ``rxgen reproduce``) left out."""
    return {k: v for k, v in ui.items() if not k.startswith(INTERNAL_UI_PREFIX)}


def comfy_outputs(outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A job's outputs by node, as ComfyUI's history lists them (nodes with nothing left out)."""
    shown = {node: comfy_ui(ui) for node, ui in outputs.items()}
    return {node: ui for node, ui in shown.items() if ui}
