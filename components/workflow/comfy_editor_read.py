"""Reading ComfyUI's editor ("workflow") format into a graph plus each node's editor state.

Every real node is kept, muted and bypassed ones included (their modes are returned), and the
editor-only nodes are resolved away: Reroute nodes pass their link on, PrimitiveNode values
become literals, Note nodes are returned apart. Widget values are named with the catalog (see
:mod:`components.workflow.comfy_editor_widgets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from components.nodes.catalog import Catalog
from components.nodes.schema import NodeDef
from components.workflow.comfy_editor_types import (
    MODE_ALWAYS,
    NOTE_TYPES,
    PRIMITIVE_NODE,
    REROUTE,
    EditorFormatError,
    EditorImport,
    EditorNodeInfo,
    EditorNote,
)
from components.workflow.comfy_editor_widgets import read_widget_values
from components.workflow.graph import Graph, InputValue, Link, Node

__all__ = ["read_editor"]


@dataclass(frozen=True)
class _LinkRecord:
    from_id: str
    from_slot: int
    to_id: str
    to_slot: int


@dataclass(frozen=True)
class _Literal:
    value: JsonValue


def read_editor(workflow: Mapping[str, Any], catalog: Catalog) -> EditorImport:
    """Read an editor workflow (schema 0.4 or 1) into a graph and its editor state."""
    problems: list[str] = []
    warnings: list[str] = []
    if not isinstance(workflow, Mapping) or not isinstance(workflow.get("nodes"), list):
        raise EditorFormatError(["expected an object with a 'nodes' list"])
    links = _read_links(workflow.get("links") or [], problems)
    raw_nodes: dict[str, Mapping[str, Any]] = {}
    for index, raw in enumerate(workflow["nodes"]):
        if not isinstance(raw, Mapping) or "id" not in raw or not isinstance(raw.get("type"), str):
            problems.append(f"nodes[{index}] needs an 'id' and a 'type'")
            continue
        raw_nodes[str(raw["id"])] = raw
    if problems:
        raise EditorFormatError(problems)

    reader = _Reader(raw_nodes, links, warnings)
    nodes: list[Node] = []
    infos: dict[str, EditorNodeInfo] = {}
    notes: list[EditorNote] = []
    for node_id, raw in raw_nodes.items():
        node_type = raw["type"]
        if node_type in NOTE_TYPES:
            notes.append(_read_note(node_id, raw))
        elif node_type not in (REROUTE, PRIMITIVE_NODE):
            node, info = reader.read_node(node_id, raw, catalog.find(node_type))
            nodes.append(node)
            infos[node_id] = info
    groups = tuple(g for g in workflow.get("groups") or [] if isinstance(g, Mapping))
    extra = workflow.get("extra")
    return EditorImport(
        graph=Graph(nodes),
        nodes=infos,
        notes=tuple(notes),
        groups=groups,
        extra=dict(extra) if isinstance(extra, Mapping) else {},
        warnings=tuple(warnings),
    )


class _Reader:
    """Turns raw editor nodes into graph nodes, following links through editor-only nodes."""

    def __init__(
        self,
        raw_nodes: Mapping[str, Mapping[str, Any]],
        links: Mapping[int, _LinkRecord],
        warnings: list[str],
    ) -> None:
        self.raw_nodes = raw_nodes
        self.links = links
        self.warnings = warnings

    def read_node(
        self, node_id: str, raw: Mapping[str, Any], definition: NodeDef | None
    ) -> tuple[Node, EditorNodeInfo]:
        node_type = raw["type"]
        where = f"node {node_id} ({node_type})"
        inputs: dict[str, InputValue] = {}
        for entry in raw.get("inputs") or []:
            if not isinstance(entry, Mapping):
                continue
            name = _input_name(entry)
            link_id = entry.get("link")
            if name is None or link_id is None:
                continue
            source = self._resolve(link_id, f"{where} input {name!r}")
            if source is not None:
                inputs[name] = source.value if isinstance(source, _Literal) else source

        controls: dict[str, JsonValue] = {}
        raw_values = raw.get("widgets_values")
        if definition is not None:
            values, controls = read_widget_values(where, definition, raw_values, self.warnings)
            for name, value in values.items():
                inputs.setdefault(name, value)  # a link into a widget wins over its stale value
        title = raw.get("title")
        raw_flags = raw.get("flags")
        flags: Mapping[str, Any] = raw_flags if isinstance(raw_flags, Mapping) else {}
        properties = raw.get("properties")
        info = EditorNodeInfo(
            pos=_pair(raw.get("pos")) or (0.0, 0.0),
            size=_pair(raw.get("size")),
            title=title if isinstance(title, str) else None,
            collapsed=bool(flags.get("collapsed", False)),
            color=_str_or_none(raw.get("color")),
            bgcolor=_str_or_none(raw.get("bgcolor")),
            mode=int(raw.get("mode") or MODE_ALWAYS),
            widget_controls=controls,
            properties=dict(properties) if isinstance(properties, Mapping) else {},
            raw_widgets_values=raw_values if definition is None else None,
        )
        api_title = info.title or (definition.display_name if definition else None)
        return Node(node_id, node_type, inputs, api_title), info

    def _resolve(self, link_id: Any, where: str) -> Link | _Literal | None:
        """The real source of an editor link, seen through Reroute and PrimitiveNode nodes."""
        seen: set[int] = set()
        while True:
            if not isinstance(link_id, int) or link_id in seen:
                self.warnings.append(f"{where}: link {link_id!r} is malformed; input left out")
                return None
            seen.add(link_id)
            record = self.links.get(link_id)
            if record is None:
                self.warnings.append(f"{where}: link {link_id} is not in the links table")
                return None
            source = self.raw_nodes.get(record.from_id)
            if source is None:
                self.warnings.append(f"{where}: link {link_id} comes from missing node")
                return None
            if source["type"] == REROUTE:
                upstream = [e for e in source.get("inputs") or [] if isinstance(e, Mapping)]
                link_id = upstream[0].get("link") if upstream else None
                if link_id is None:
                    self.warnings.append(f"{where}: reroute {record.from_id} is not connected")
                    return None
                continue
            if source["type"] == PRIMITIVE_NODE:
                values = source.get("widgets_values")
                if isinstance(values, list) and values:
                    return _Literal(values[0])
                self.warnings.append(f"{where}: primitive {record.from_id} has no value")
                return None
            return Link(record.from_id, record.from_slot)


def _read_links(raw_links: Any, problems: list[str]) -> dict[int, _LinkRecord]:
    links: dict[int, _LinkRecord] = {}
    if not isinstance(raw_links, list):
        problems.append("'links' must be a list")
        return links
    for index, raw in enumerate(raw_links):
        try:
            if isinstance(raw, Mapping):  # schema 1: link objects
                link_id = int(raw["id"])
                record = _LinkRecord(
                    str(raw["origin_id"]),
                    int(raw["origin_slot"]),
                    str(raw["target_id"]),
                    int(raw["target_slot"]),
                )
            else:  # schema 0.4: [id, from, from_slot, to, to_slot, type]
                link_id, from_id, from_slot, to_id, to_slot = raw[:5]
                record = _LinkRecord(str(from_id), int(from_slot), str(to_id), int(to_slot))
                link_id = int(link_id)
        except (KeyError, TypeError, ValueError, IndexError):
            problems.append(f"links[{index}] is not a link: {raw!r}")
            continue
        links[link_id] = record
    return links


def _read_note(node_id: str, raw: Mapping[str, Any]) -> EditorNote:
    values = raw.get("widgets_values")
    text = values[0] if isinstance(values, list) and values and isinstance(values[0], str) else ""
    return EditorNote(
        id=node_id,
        text=text,
        type=raw["type"],
        pos=_pair(raw.get("pos")) or (0.0, 0.0),
        size=_pair(raw.get("size")),
        title=_str_or_none(raw.get("title")),
        color=_str_or_none(raw.get("color")),
        bgcolor=_str_or_none(raw.get("bgcolor")),
    )


def _input_name(entry: Mapping[str, Any]) -> str | None:
    widget = entry.get("widget")
    if isinstance(widget, Mapping) and isinstance(widget.get("name"), str):
        return str(widget["name"])
    name = entry.get("name")
    return name if isinstance(name, str) else None


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, Mapping):  # some editors store vectors as {"0": x, "1": y}
        value = [value.get("0"), value.get("1")]
    if isinstance(value, list | tuple) and len(value) >= 2:
        try:
            return (float(value[0]), float(value[1]))
        except (TypeError, ValueError):
            return None
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
