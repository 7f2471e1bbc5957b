"""Workflow graphs: the model, the ComfyUI formats, rxgen's document format and validation."""

from __future__ import annotations

from components.workflow.comfy_api import ApiFormatError, api_to_graph, graph_to_api
from components.workflow.comfy_editor import apply_modes, editor_to_api, editor_to_graph
from components.workflow.comfy_editor_read import read_editor
from components.workflow.comfy_editor_types import EditorFormatError, EditorImport
from components.workflow.comfy_editor_write import write_editor
from components.workflow.document import Document, NodeLayout
from components.workflow.graph import CycleError, Graph, InputValue, Link, Node
from components.workflow.problems import Problem, ValidationReport
from components.workflow.validate import validate

__all__ = [
    "ApiFormatError",
    "CycleError",
    "Document",
    "EditorFormatError",
    "EditorImport",
    "Graph",
    "InputValue",
    "Link",
    "Node",
    "NodeLayout",
    "Problem",
    "ValidationReport",
    "api_to_graph",
    "apply_modes",
    "editor_to_api",
    "editor_to_graph",
    "graph_to_api",
    "read_editor",
    "validate",
    "write_editor",
]
