"""ComfyUI's editor ("workflow") format to the graph, and the API prompt, that the editor queues.

The editor format stores nodes with positions and ``widgets_values`` (widget values by position,
not by name) plus a table of links. :func:`~components.workflow.comfy_editor_read.read_editor`
reads it into a graph of every real node plus each node's mode and editor state; here
:func:`apply_modes` then drops muted nodes and routes links through bypassed ones, as ComfyUI's
editor does when it queues a prompt. The way back is
:func:`~components.workflow.comfy_editor_write.write_editor`.

Modules: ``comfy_editor_types`` (modes, editor-state records), ``comfy_editor_widgets`` (naming
widget values), ``comfy_editor_read`` and ``comfy_editor_write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from components.nodes.catalog import Catalog
from components.nodes.schema import NodeDef
from components.nodes.types import SocketType, is_compatible
from components.workflow.comfy_api import graph_to_api
from components.workflow.comfy_editor_read import read_editor
from components.workflow.comfy_editor_types import MODE_BYPASS, MODE_NEVER
from components.workflow.graph import Graph, InputValue, Link, Node

__all__ = ["apply_modes", "editor_to_api", "editor_to_graph"]


def editor_to_graph(workflow: Mapping[str, Any], catalog: Catalog) -> Graph:
    """The graph ComfyUI's editor would queue: muted nodes dropped, bypassed ones routed around."""
    imported = read_editor(workflow, catalog)
    return apply_modes(imported.graph, imported.modes, catalog)


def editor_to_api(workflow: Mapping[str, Any], catalog: Catalog) -> dict[str, JsonValue]:
    """The API-format prompt ComfyUI's editor would send for ``workflow``."""
    return graph_to_api(editor_to_graph(workflow, catalog))


def apply_modes(graph: Graph, modes: Mapping[str, int], catalog: Catalog) -> Graph:
    """Drop muted (mode 2) and bypassed (mode 4) nodes, as ComfyUI's editor does.

    A link from a bypassed node is replaced by the link into that node's first input of the same
    type, trying the input at the output's own index first; with no such linked input, and for
    links from muted nodes, the input is left out (validation then reports it if required).
    """
    muted = {node_id for node_id, mode in modes.items() if mode == MODE_NEVER}
    bypassed = {node_id for node_id, mode in modes.items() if mode == MODE_BYPASS}
    if not (muted or bypassed) & set(graph.nodes):
        return graph
    kept: list[Node] = []
    for node in graph:
        if node.id in muted or node.id in bypassed:
            continue
        definition = catalog.find(node.type)
        inputs: dict[str, InputValue] = {}
        for name, value in node.inputs.items():
            if not isinstance(value, Link):
                inputs[name] = value
                continue
            wanted = _wanted_type(graph, catalog, definition, name, value)
            routed = _route(graph, catalog, value, wanted, muted, bypassed)
            if routed is not None:
                inputs[name] = routed
        kept.append(Node(node.id, node.type, inputs, node.title))
    return Graph(kept)


def _wanted_type(
    graph: Graph, catalog: Catalog, definition: NodeDef | None, name: str, link: Link
) -> str | None:
    if definition is not None and definition.has_input(name):
        return definition.input(name).type
    source = graph.nodes.get(link.node_id)
    source_def = catalog.find(source.type) if source is not None else None
    if source_def is not None and link.output_index < len(source_def.outputs):
        return source_def.outputs[link.output_index].type
    return None


def _route(
    graph: Graph,
    catalog: Catalog,
    link: Link,
    wanted: str | None,
    muted: set[str],
    bypassed: set[str],
) -> Link | None:
    seen: set[str] = set()
    while True:
        if link.node_id in muted:
            return None
        if link.node_id not in bypassed:
            return link
        if link.node_id in seen or wanted is None:
            return None
        seen.add(link.node_id)
        source = graph.node(link.node_id)
        definition = catalog.find(source.type)
        if definition is None:
            return None
        inputs = definition.inputs
        preferred = [inputs[link.output_index]] if link.output_index < len(inputs) else []
        match = next(
            (
                spec
                for spec in (*preferred, *inputs)
                if spec.type == wanted
                or (is_compatible(spec.type, wanted) and SocketType.ANY not in (spec.type, wanted))
            ),
            None,
        )
        upstream = source.inputs.get(match.name) if match is not None else None
        if not isinstance(upstream, Link):
            return None
        link = upstream
