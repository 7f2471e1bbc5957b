"""ComfyUI's API format ("prompt") to and from the Graph model.

The format: ``{"<id>": {"class_type": str, "inputs": {name: value | [src_id, index]},
"_meta": {"title": str}}}``. Any 2-element list of (id, non-negative int) is a link, as in ComfyUI;
other lists stay literal values so that ``validate`` can report them as bad links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from components.workflow.graph import Graph, InputValue, Link, Node


class ApiFormatError(ValueError):
    """The data is not an API-format prompt; ``problems`` lists every structural problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("not a ComfyUI API-format prompt: " + "; ".join(self.problems))

    def comfy_response(self) -> dict[str, JsonValue]:
        """The HTTP 400 body ComfyUI sends for a malformed prompt."""
        return {
            "error": {
                "type": "invalid_prompt",
                "message": "Cannot execute because the prompt is malformed.",
                "details": "; ".join(self.problems),
                "extra_info": {},
            },
            "node_errors": {},
        }


def parse_input_value(value: Any) -> InputValue:
    """A Link for ``[node_id, output_index]``, otherwise the literal itself."""
    if isinstance(value, list | tuple) and len(value) == 2:
        source, index = value
        if (
            isinstance(source, str | int)
            and not isinstance(source, bool)
            and isinstance(index, int)
            and not isinstance(index, bool)
            and index >= 0
        ):
            return Link(str(source), index)
    if isinstance(value, tuple):
        return list(value)
    return value  # type: ignore[no-any-return]


def api_to_graph(prompt: Mapping[str, Any]) -> Graph:
    """Build a Graph from an API-format prompt; raises ApiFormatError listing every problem."""
    if not isinstance(prompt, Mapping):
        raise ApiFormatError([f"expected an object of nodes by id, got {type(prompt).__name__}"])
    problems: list[str] = []
    nodes: list[Node] = []
    for raw_id, entry in prompt.items():
        node_id = str(raw_id)
        where = f"node {node_id!r}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} is {type(entry).__name__}, expected an object")
            continue
        class_type = entry.get("class_type")
        if not isinstance(class_type, str) or not class_type:
            problems.append(f"{where} is missing the class_type property (a node type name)")
            continue
        inputs = entry.get("inputs", {})
        if not isinstance(inputs, Mapping):
            problems.append(f"{where} has inputs of type {type(inputs).__name__}, expected object")
            continue
        title = _title(entry.get("_meta"))
        parsed = {str(name): parse_input_value(value) for name, value in inputs.items()}
        nodes.append(Node(node_id, class_type, parsed, title))
    if problems:
        raise ApiFormatError(problems)
    return Graph(nodes)


def graph_to_api(graph: Graph) -> dict[str, JsonValue]:
    """The API-format prompt of ``graph``, nodes in stable id order."""
    prompt: dict[str, JsonValue] = {}
    for node_id in graph.ids():
        node = graph.node(node_id)
        inputs: dict[str, JsonValue] = {
            name: value.to_api() if isinstance(value, Link) else value
            for name, value in node.inputs.items()
        }
        entry: dict[str, JsonValue] = {"inputs": inputs, "class_type": node.type}
        if node.title is not None:
            entry["_meta"] = {"title": node.title}
        prompt[node_id] = entry
    return prompt


def _title(meta: Any) -> str | None:
    if isinstance(meta, Mapping):
        title = meta.get("title")
        if isinstance(title, str):
            return title
    return None
