"""Writing a graph as a ComfyUI editor ("workflow") file (schema 0.4).

Nodes keep the editor state they were read with; nodes without it are laid out in columns by
dependency depth, so that an API-format prompt opens readable in the editor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from pydantic import JsonValue

from components.nodes.catalog import Catalog
from components.nodes.schema import NodeDef
from components.nodes.types import SocketType
from components.workflow.comfy_editor_types import MODE_ALWAYS, EditorNodeInfo, EditorNote
from components.workflow.comfy_editor_widgets import write_widget_values
from components.workflow.graph import CycleError, Graph, Link, Node, node_sort_key

__all__ = ["write_editor"]

_EDITOR_VERSION: Final = 0.4


def write_editor(
    graph: Graph,
    catalog: Catalog,
    nodes: Mapping[str, EditorNodeInfo] | None = None,
    notes: Iterable[EditorNote] = (),
    groups: Iterable[Mapping[str, JsonValue]] = (),
    extra: Mapping[str, JsonValue] | None = None,
) -> dict[str, JsonValue]:
    """An editor workflow (schema 0.4) for ``graph``; nodes without layout are laid out by depth."""
    infos = dict(nodes or {})
    positions = _auto_layout(graph)
    order = {node_id: index for index, node_id in enumerate(_safe_order(graph))}

    # Pass 1: each node's input sockets, so that links know their target slot.
    sockets: dict[str, list[dict[str, JsonValue]]] = {}
    link_rows: list[list[JsonValue]] = []
    outgoing: dict[tuple[str, int], list[int]] = {}
    for node in (graph.node(node_id) for node_id in graph.ids()):
        definition = catalog.find(node.type)
        entries: list[dict[str, JsonValue]] = []
        for name, spec_type, is_widget in _socket_inputs(node, definition):
            value = node.inputs.get(name)
            link_id: int | None = None
            if isinstance(value, Link) and value.node_id in graph:
                link_id = len(link_rows) + 1
                link_rows.append(
                    [
                        link_id,
                        _editor_id(value.node_id),
                        value.output_index,
                        _editor_id(node.id),
                        len(entries),
                        _link_type(graph, catalog, value, spec_type),
                    ]
                )
                outgoing.setdefault((value.node_id, value.output_index), []).append(link_id)
            elif is_widget:
                continue  # an unlinked widget has no socket in the 0.4 format
            entry: dict[str, JsonValue] = {"name": name, "type": spec_type, "link": link_id}
            if is_widget:
                entry["widget"] = {"name": name}
            entries.append(entry)
        sockets[node.id] = entries

    # Pass 2: the node records.
    records: list[JsonValue] = []
    for node_id in graph.ids():
        node = graph.node(node_id)
        definition = catalog.find(node.type)
        info = infos.get(node_id) or EditorNodeInfo(pos=positions[node_id])
        record: dict[str, JsonValue] = {
            "id": _editor_id(node_id),
            "type": node.type,
            "pos": list(info.pos),
            "size": list(info.size or _default_size(definition)),
            "flags": {"collapsed": True} if info.collapsed else {},
            "order": order.get(node_id, len(order)),
            "mode": info.mode,
            "inputs": list(sockets[node_id]),
            "outputs": _outputs(node, definition, graph, outgoing),
            "properties": {"Node name for S&R": node.type, **info.properties},
        }
        widget_values = (
            write_widget_values(node, definition, info.widget_controls) if definition else []
        )
        if widget_values:
            record["widgets_values"] = widget_values
        elif definition is None and info.raw_widgets_values is not None:
            record["widgets_values"] = info.raw_widgets_values
        for key, value in (("title", info.title), ("color", info.color), ("bgcolor", info.bgcolor)):
            if value is not None:
                record[key] = value
        records.append(record)
    for note in notes:
        records.append(_note_record(note))

    numeric = [int(r["id"]) for r in records if isinstance(r, dict) and isinstance(r["id"], int)]
    return {
        "last_node_id": max(numeric, default=0),
        "last_link_id": len(link_rows),
        "nodes": records,
        "links": list(link_rows),
        "groups": [dict(group) for group in groups],
        "config": {},
        "extra": dict(extra or {}),
        "version": _EDITOR_VERSION,
    }


def _socket_inputs(node: Node, definition: NodeDef | None) -> list[tuple[str, str, bool]]:
    """(name, type, is_widget) of each input that may carry a link, in editor order."""
    if definition is None:
        return [(name, SocketType.ANY, False) for name, _ in node.links()]
    return [(spec.name, spec.type, spec.is_widget) for spec in definition.inputs]


def _outputs(
    node: Node,
    definition: NodeDef | None,
    graph: Graph,
    outgoing: Mapping[tuple[str, int], list[int]],
) -> list[JsonValue]:
    if definition is not None:
        specs = [(out.name, out.type) for out in definition.outputs]
    else:
        used = [index for (source, index) in outgoing if source == node.id]
        specs = [(SocketType.ANY.value, SocketType.ANY.value)] * (max(used, default=-1) + 1)
    return [
        {
            "name": name,
            "type": out_type,
            "links": list(outgoing.get((node.id, index), [])),
            "slot_index": index,
        }
        for index, (name, out_type) in enumerate(specs)
    ]


def _note_record(note: EditorNote) -> dict[str, JsonValue]:
    record: dict[str, JsonValue] = {
        "id": _editor_id(note.id),
        "type": note.type,
        "pos": list(note.pos),
        "size": list(note.size or (400.0, 200.0)),
        "flags": {},
        "order": 0,
        "mode": MODE_ALWAYS,
        "properties": {},
        "widgets_values": [note.text],
    }
    for key, value in (("title", note.title), ("color", note.color), ("bgcolor", note.bgcolor)):
        if value is not None:
            record[key] = value
    return record


def _link_type(graph: Graph, catalog: Catalog, link: Link, fallback: str) -> str:
    source = graph.nodes.get(link.node_id)
    source_def = catalog.find(source.type) if source is not None else None
    if source_def is not None and link.output_index < len(source_def.outputs):
        return source_def.outputs[link.output_index].type
    return fallback


def _editor_id(node_id: str) -> int | str:
    return int(node_id) if node_sort_key(node_id)[0] == 0 else node_id


def _default_size(definition: NodeDef | None) -> tuple[float, float]:
    rows = 1 + (len(definition.inputs) if definition else 1)
    return (315.0, 26.0 + 24.0 * rows)


def _safe_order(graph: Graph) -> tuple[str, ...]:
    try:
        return graph.topological_order()
    except CycleError:
        return graph.ids()


def _auto_layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """Columns by dependency depth, so that an API graph opens readable in the editor."""
    depth: dict[str, int] = {}
    for node_id in _safe_order(graph):
        parents = [depth[p] for p in graph.upstream(node_id) if p in depth]
        depth[node_id] = 1 + max(parents) if parents else 0
    rows: dict[int, int] = {}
    positions: dict[str, tuple[float, float]] = {}
    for node_id in graph.ids():
        column = depth.get(node_id, 0)
        row = rows.get(column, 0)
        rows[column] = row + 1
        positions[node_id] = (50.0 + 400.0 * column, 50.0 + 250.0 * row)
    return positions
