"""Implementations of nodes: the light CPU nodes and third-party plugins."""

from __future__ import annotations

from drivers.nodes.light_ops import LIGHT_OPS, NodeFunction, NodeInputError
from drivers.nodes.plugins import (
    ENTRY_POINT_GROUP,
    NodePack,
    NodeRegistry,
    PluginError,
    PluginScan,
    build_registry,
    discover_plugins,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "LIGHT_OPS",
    "NodeFunction",
    "NodeInputError",
    "NodePack",
    "NodeRegistry",
    "PluginError",
    "PluginScan",
    "build_registry",
    "discover_plugins",
]
