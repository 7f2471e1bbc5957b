"""The node catalog: typed node definitions with ComfyUI-compatible names."""

from __future__ import annotations

from components.nodes.catalog import Catalog, DuplicateNodeTypeError, UnknownNodeTypeError
from components.nodes.core import CORE_NODES, SAMPLER_NAMES, SCHEDULER_NAMES
from components.nodes.light import LIGHT_NODES
from components.nodes.sampler_support import sampler_pair_rule
from components.nodes.schema import DynamicChoices, InputSpec, NodeDef, OutputSpec
from components.nodes.types import SocketType, is_compatible
from components.nodes.video import VIDEO_NODES

__all__ = [
    "CORE_NODES",
    "LIGHT_NODES",
    "SAMPLER_NAMES",
    "SCHEDULER_NAMES",
    "Catalog",
    "DuplicateNodeTypeError",
    "DynamicChoices",
    "InputSpec",
    "NodeDef",
    "OutputSpec",
    "SocketType",
    "UnknownNodeTypeError",
    "default_catalog",
    "is_compatible",
]


def default_catalog() -> Catalog:
    """rxgen's built-in nodes: ComfyUI's core model nodes, the light nodes and video nodes."""
    catalog = Catalog.from_sources({"core": CORE_NODES, "light": LIGHT_NODES, "video": VIDEO_NODES})
    return catalog.with_rules(
        {"KSampler": [sampler_pair_rule], "KSamplerAdvanced": [sampler_pair_rule]}
    )
