"""Node implementations and the driver that runs them: light nodes, output nodes, plugins."""

from __future__ import annotations

from drivers.nodes.context import NodeContext, NodeImplementation, NodeResult
from drivers.nodes.light_ops import LIGHT_OPS, NodeInputError
from drivers.nodes.plugins import (
    ENTRY_POINT_GROUP,
    NodePack,
    NodeRegistry,
    PluginError,
    PluginScan,
    build_registry,
    discover_plugins,
)
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore

__all__ = [
    "ENTRY_POINT_GROUP",
    "LIGHT_OPS",
    "NodeContext",
    "NodeImplementation",
    "NodeInputError",
    "NodePack",
    "NodeRegistry",
    "NodeResult",
    "NodeRunner",
    "OutputStore",
    "PluginError",
    "PluginScan",
    "build_registry",
    "discover_plugins",
    "registry",
]
