"""ComfyUI's editor ("workflow") format to and from the Graph model.

The editor format stores nodes with positions and ``widgets_values`` (widget values by position,
not by name) plus a table of links. Reading it needs the catalog: the order of a node type's
widget inputs names the values, and some widgets are followed by an extra value that is not an
input (the seed's ``control_after_generate``, LoadImage's upload button).

Reading keeps every real node, muted and bypassed ones included (their modes are returned), and
resolves the editor-only nodes away: Reroute nodes pass their link on, PrimitiveNode values become
literals, Note nodes are returned apart. ``apply_modes`` then drops muted nodes and routes links
through bypassed ones, as ComfyUI's editor does when it queues a prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import JsonValue

from components.nodes.catalog import Catalog
from components.nodes.schema import InputSpec, NodeDef
from components.nodes.types import SocketType, is_compatible
from components.workflow.comfy_api import graph_to_api
from components.workflow.graph import CycleError, Graph, InputValue, Link, Node, node_sort_key

MODE_ALWAYS: Final = 0
MODE_NEVER: Final = 2  # "muted": the node and what only it feeds do not run
MODE_BYPASS: Final = 4  # the node is skipped; matching inputs pass through to its outputs

REROUTE: Final = "Reroute"
PRIMITIVE_NODE: Final = "PrimitiveNode"
NOTE_TYPES: Final = frozenset({"Note", "MarkdownNote"})
SEED_CONTROL_VALUES: Final = frozenset({"fixed", "increment", "decrement", "randomize"})
# Old editors added a control widget after any INT widget with these names.
_SEED_NAMES: Final = frozenset({"seed", "noise_seed"})
_UPLOAD_VALUE: Final = "image"
_EDITOR_VERSION: Final = 0.4


class EditorFormatError(ValueError):
    """The data is not an editor workflow; ``problems`` lists every structural problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("not a ComfyUI editor workflow: " + "; ".join(self.problems))


@dataclass(frozen=True)
class EditorNodeInfo:
    """What the editor keeps about a node besides its inputs: layout and editor state."""

    pos: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] | None = None
    title: str | None = None
    collapsed: bool = False
    color: str | None = None
    bgcolor: str | None = None
    mode: int = MODE_ALWAYS
    widget_controls: Mapping[str, JsonValue] = field(default_factory=dict)
    properties: Mapping[str, JsonValue] = field(default_factory=dict)
    # Only for node types the catalog does not know, whose values cannot be named.
    raw_widgets_values: JsonValue = None


@dataclass(frozen=True)
class EditorNote:
    """A Note or MarkdownNote: text on the canvas, not part of the graph."""

    id: str
    text: str
    type: str = "Note"
    pos: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] | None = None
    title: str | None = None
    color: str | None = None
    bgcolor: str | None = None


@dataclass(frozen=True)
class EditorImport:
    """An editor workflow read into a graph of every real node plus its editor state."""

    graph: Graph
    nodes: Mapping[str, EditorNodeInfo]
    notes: tuple[EditorNote, ...] = ()
    groups: tuple[Mapping[str, JsonValue], ...] = ()
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def modes(self) -> dict[str, int]:
        return {node_id: info.mode for node_id, info in self.nodes.items()}


@dataclass(frozen=True)
class _LinkRecord:
    from_id: str
    from_slot: int
    to_id: str
    to_slot: int


@dataclass(frozen=True)
class _Literal:
    value: JsonValue


# --- reading ------------------------------------------------------------------------------------


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
            values, controls = self._widget_values(where, definition, raw_values)
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

    def _widget_values(
        self, where: str, definition: NodeDef, raw_values: Any
    ) -> tuple[dict[str, JsonValue], dict[str, JsonValue]]:
        specs = definition.widget_inputs
        if raw_values is None:
            raw_values = []
        if isinstance(raw_values, Mapping):
            # Some node packs store widget values by name.
            return {s.name: raw_values[s.name] for s in specs if s.name in raw_values}, {}
        if not isinstance(raw_values, list):
            self.warnings.append(f"{where}: widgets_values is not a list; widget values ignored")
            return {}, {}
        values: dict[str, JsonValue] = {}
        controls: dict[str, JsonValue] = {}
        position = 0
        for index, spec in enumerate(specs):
            if position >= len(raw_values):
                default = spec.effective_default()
                self.warnings.append(
                    f"{where}: no stored value for widget {spec.name!r}; using its default "
                    f"{default!r}"
                )
                if default is not None:
                    values[spec.name] = default
                continue
            values[spec.name] = raw_values[position]
            position += 1
            spare = (len(raw_values) - position) - (len(specs) - index - 1)
            if _has_control(spec) and spare > 0 and _is_control(raw_values[position]):
                controls[spec.name] = raw_values[position]
                position += 1
                spare -= 1
            if spec.image_upload and spare > 0:
                position += 1  # the upload button's own value
        if position < len(raw_values):
            self.warnings.append(
                f"{where}: {len(raw_values) - position} extra widget value(s) ignored; the "
                "workflow may come from a newer version of this node"
            )
        return values, controls

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


def _has_control(spec: InputSpec) -> bool:
    return spec.control_after_generate or (spec.type == SocketType.INT and spec.name in _SEED_NAMES)


def _is_control(value: Any) -> bool:
    return isinstance(value, bool) or value in SEED_CONTROL_VALUES


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


# --- writing ------------------------------------------------------------------------------------


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
        widget_values = _widgets_values(node, definition, info) if definition else []
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


def _widgets_values(node: Node, definition: NodeDef, info: EditorNodeInfo) -> list[JsonValue]:
    values: list[JsonValue] = []
    for spec in definition.widget_inputs:
        value = node.inputs.get(spec.name)
        values.append(
            spec.effective_default() if value is None or isinstance(value, Link) else value
        )
        if _has_control(spec) and (
            spec.control_after_generate or spec.name in info.widget_controls
        ):
            values.append(info.widget_controls.get(spec.name, "fixed"))
        if spec.image_upload:
            values.append(_UPLOAD_VALUE)
    return values


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
