"""Any of the three workflow formats in, an API-format prompt out; and `--set` overrides."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.nodes.catalog import Catalog
from components.workflow.comfy_editor import editor_to_api
from components.workflow.document import Document


class WorkflowFormatError(ValueError):
    pass


def detect_format(data: Any) -> str:
    """ "rxgen" (document), "editor" (ComfyUI's saved workflow) or "api" (ComfyUI's prompt)."""
    if not isinstance(data, Mapping):
        raise WorkflowFormatError(
            f"a workflow is a JSON object, got {type(data).__name__}; save it from the editor "
            "or export it in ComfyUI's API format"
        )
    if data.get("format") == "rxgen.workflow":
        return "rxgen"
    if isinstance(data.get("nodes"), list):
        return "editor"
    if "prompt" in data and isinstance(data["prompt"], Mapping) and "client_id" in data:
        raise WorkflowFormatError(
            "this is a /prompt request body; use the value of its 'prompt' field as the workflow"
        )
    return "api"


def to_api_prompt(data: Any, catalog: Catalog) -> dict[str, Any]:
    kind = detect_format(data)
    if kind == "rxgen":
        return dict(Document.model_validate(data).to_api(catalog))
    if kind == "editor":
        return dict(editor_to_api(data, catalog))
    return dict(data)


def parse_override(text: str) -> tuple[str, str, Any]:
    """``NODE.INPUT=VALUE``; VALUE is read as JSON when it parses, else as a string."""
    target, sep, raw = text.partition("=")
    node_id, dot, name = target.partition(".")
    if not sep or not dot or not node_id or not name:
        raise WorkflowFormatError(
            f"--set {text!r}: expected NODE.INPUT=VALUE, e.g. --set 3.seed=42 or "
            "--set 6.text='a red fox'"
        )
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return node_id, name, value


def apply_overrides(prompt: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``prompt`` with each ``NODE.INPUT=VALUE`` set as a literal input."""
    result = {node_id: dict(node) for node_id, node in prompt.items()}
    for text in overrides:
        node_id, name, value = parse_override(text)
        node = result.get(node_id)
        if node is None:
            known = ", ".join(sorted(result)) or "none"
            raise WorkflowFormatError(f"--set {text!r}: no node {node_id!r} (nodes: {known})")
        node["inputs"] = {**node.get("inputs", {}), name: value}
    return result
