"""ComfyUI's editor ("workflow") format: its node modes, editor-only node types, and the records
that keep a node's editor state (layout, colours, widget controls) next to the graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import JsonValue

from components.workflow.graph import Graph

__all__ = [
    "MODE_ALWAYS",
    "MODE_BYPASS",
    "MODE_NEVER",
    "NOTE_TYPES",
    "PRIMITIVE_NODE",
    "REROUTE",
    "EditorFormatError",
    "EditorImport",
    "EditorNodeInfo",
    "EditorNote",
]

MODE_ALWAYS: Final = 0
MODE_NEVER: Final = 2  # "muted": the node and what only it feeds do not run
MODE_BYPASS: Final = 4  # the node is skipped; matching inputs pass through to its outputs

REROUTE: Final = "Reroute"
PRIMITIVE_NODE: Final = "PrimitiveNode"
NOTE_TYPES: Final = frozenset({"Note", "MarkdownNote"})


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
