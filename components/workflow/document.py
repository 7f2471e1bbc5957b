"""rxgen's own workflow document: the API graph plus the editor's layout, groups and notes.

``{"format": "rxgen.workflow", "format_version": 1, "graph": <API-format prompt>, "layout":
{node_id: {pos, size, title, collapsed, color, mode, ...}}, "notes": [...], "groups": [...],
"metadata": {...}}``. The graph holds every node, muted and bypassed ones too (their ``mode`` is
in the layout), so that nothing the user built is lost; ``to_executable_graph`` gives the graph
to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from components.nodes.catalog import Catalog
from components.workflow.comfy_api import api_to_graph, graph_to_api
from components.workflow.comfy_editor import apply_modes
from components.workflow.comfy_editor_read import read_editor
from components.workflow.comfy_editor_types import (
    MODE_ALWAYS,
    EditorImport,
    EditorNodeInfo,
    EditorNote,
)
from components.workflow.comfy_editor_write import write_editor
from components.workflow.graph import Graph, node_sort_key

DOCUMENT_FORMAT = "rxgen.workflow"
DOCUMENT_FORMAT_VERSION = 1
# Editor fields with no place in the document proper travel in metadata under this key.
EDITOR_METADATA_KEY = "comfy_editor"

Vector2 = tuple[float, float]


class ApiMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str | None = None


class ApiNode(BaseModel):
    """One node of the API-format prompt."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_type: str = Field(min_length=1)
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    meta: ApiMeta | None = Field(default=None, alias="_meta")


class NodeLayout(BaseModel):
    """Where and how a node is drawn, and its editor-only state."""

    model_config = ConfigDict(extra="forbid")

    pos: Vector2 = (0.0, 0.0)
    size: Vector2 | None = None
    title: str | None = None
    collapsed: bool = False
    color: str | None = None
    bgcolor: str | None = None
    mode: int = Field(default=MODE_ALWAYS, ge=0, le=4, description="0 always, 2 muted, 4 bypass")
    widget_controls: dict[str, JsonValue] = Field(
        default_factory=dict, description="control_after_generate values by input name"
    )
    properties: dict[str, JsonValue] = Field(default_factory=dict)
    raw_widgets_values: JsonValue = Field(
        default=None, description="widget values of a node type unknown when the file was read"
    )


class Note(BaseModel):
    """A text note on the canvas."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = ""
    type: str = "Note"
    pos: Vector2 = (0.0, 0.0)
    size: Vector2 | None = None
    title: str | None = None
    color: str | None = None
    bgcolor: str | None = None


class Group(BaseModel):
    """A titled box around nodes on the canvas; unknown editor fields are kept."""

    model_config = ConfigDict(extra="allow")

    title: str = ""
    bounding: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    color: str | None = None
    font_size: float | None = None


class Document(BaseModel):
    """A saved workflow: graph, layout, notes, groups and free metadata."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["rxgen.workflow"] = "rxgen.workflow"
    format_version: Literal[1] = 1
    graph: dict[str, ApiNode] = Field(default_factory=dict)
    layout: dict[str, NodeLayout] = Field(default_factory=dict)
    notes: list[Note] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_layout_ids(self) -> Self:
        stray = sorted(set(self.layout) - set(self.graph), key=node_sort_key)
        if stray:
            raise ValueError(
                f"layout names node(s) {', '.join(stray)} that are not in the graph; remove "
                "those layout entries or add the nodes"
            )
        return self

    # --- graph --------------------------------------------------------------------------------

    @classmethod
    def from_graph(
        cls,
        graph: Graph,
        layout: Mapping[str, NodeLayout] | None = None,
        metadata: Mapping[str, JsonValue] | None = None,
    ) -> Document:
        api = graph_to_api(graph)
        return cls(
            graph={k: ApiNode.model_validate(v) for k, v in api.items()},
            layout=dict(layout or {}),
            metadata=dict(metadata or {}),
        )

    @classmethod
    def from_api(cls, prompt: Mapping[str, Any]) -> Document:
        """A document without layout from an API-format prompt (checked by ``api_to_graph``)."""
        return cls.from_graph(api_to_graph(prompt))

    def to_graph(self) -> Graph:
        """Every node of the document, muted and bypassed ones included."""
        return api_to_graph(self.api_prompt())

    def to_executable_graph(self, catalog: Catalog) -> Graph:
        """The graph to run: muted nodes dropped and bypassed nodes routed around."""
        modes = {node_id: layout.mode for node_id, layout in self.layout.items()}
        return apply_modes(self.to_graph(), modes, catalog)

    def to_api(self, catalog: Catalog) -> dict[str, JsonValue]:
        """The API-format prompt to queue (muted and bypassed nodes resolved)."""
        return graph_to_api(self.to_executable_graph(catalog))

    def api_prompt(self) -> dict[str, Any]:
        """The stored graph, every node included, in API format."""
        return {
            node_id: node.model_dump(mode="json", by_alias=True, exclude_none=True)
            for node_id, node in self.graph.items()
        }

    # --- editor -------------------------------------------------------------------------------

    @classmethod
    def from_editor(cls, workflow: Mapping[str, Any], catalog: Catalog) -> Document:
        """Read a ComfyUI editor workflow, keeping layout, notes, groups and editor extras."""
        return cls.from_editor_import(read_editor(workflow, catalog), workflow)

    @classmethod
    def from_editor_import(
        cls, imported: EditorImport, workflow: Mapping[str, Any] | None = None
    ) -> Document:
        layout = {node_id: _layout_from_info(info) for node_id, info in imported.nodes.items()}
        editor_meta: dict[str, JsonValue] = {"extra": dict(imported.extra)}
        if workflow is not None:
            for key in ("version", "config", "models"):
                if key in workflow:
                    editor_meta[key] = workflow[key]
        if imported.warnings:
            editor_meta["import_warnings"] = list(imported.warnings)
        document = cls.from_graph(imported.graph, layout, {EDITOR_METADATA_KEY: editor_meta})
        return document.model_copy(
            update={
                "notes": [_note_model(note) for note in imported.notes],
                "groups": [Group.model_validate(dict(group)) for group in imported.groups],
            }
        )

    def to_editor(self, catalog: Catalog) -> dict[str, JsonValue]:
        """A ComfyUI editor workflow (schema 0.4) with this document's layout, notes and groups."""
        editor_meta = self.metadata.get(EDITOR_METADATA_KEY)
        extra = editor_meta.get("extra") if isinstance(editor_meta, dict) else None
        workflow = write_editor(
            self.to_graph(),
            catalog,
            nodes={node_id: _info_from_layout(lay) for node_id, lay in self.layout.items()},
            notes=[_note_info(note) for note in self.notes],
            groups=[group.model_dump(mode="json", exclude_none=True) for group in self.groups],
            extra=extra if isinstance(extra, dict) else None,
        )
        if isinstance(editor_meta, dict):
            for key in ("config", "models"):
                if key in editor_meta:
                    workflow[key] = editor_meta[key]
        return workflow


def _layout_from_info(info: EditorNodeInfo) -> NodeLayout:
    return NodeLayout(
        pos=info.pos,
        size=info.size,
        title=info.title,
        collapsed=info.collapsed,
        color=info.color,
        bgcolor=info.bgcolor,
        mode=info.mode,
        widget_controls=dict(info.widget_controls),
        properties=dict(info.properties),
        raw_widgets_values=info.raw_widgets_values,
    )


def _info_from_layout(layout: NodeLayout) -> EditorNodeInfo:
    return EditorNodeInfo(
        pos=layout.pos,
        size=layout.size,
        title=layout.title,
        collapsed=layout.collapsed,
        color=layout.color,
        bgcolor=layout.bgcolor,
        mode=layout.mode,
        widget_controls=dict(layout.widget_controls),
        properties=dict(layout.properties),
        raw_widgets_values=layout.raw_widgets_values,
    )


def _note_model(note: EditorNote) -> Note:
    return Note(
        id=note.id,
        text=note.text,
        type=note.type,
        pos=note.pos,
        size=note.size,
        title=note.title,
        color=note.color,
        bgcolor=note.bgcolor,
    )


def _note_info(note: Note) -> EditorNote:
    return EditorNote(
        id=note.id,
        text=note.text,
        type=note.type,
        pos=note.pos,
        size=note.size,
        title=note.title,
        color=note.color,
        bgcolor=note.bgcolor,
    )
