"""Every node implementation rxgen ships, keyed by node type, plus plugins' when given."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from drivers.nodes.context import NodeImplementation
from drivers.nodes.input_ops import INPUT_OPS
from drivers.nodes.light_ops import LIGHT_OPS
from drivers.nodes.output_ops import OUTPUT_OPS
from drivers.video.nodes import VIDEO_OPS


def registry(
    plugins: Mapping[str, NodeImplementation] | None = None,
) -> Mapping[str, NodeImplementation]:
    """The built-in implementations (light, input and output ops), with ``plugins`` added.

    ``plugins`` is typically ``NodeRegistry.implementations`` from
    :func:`drivers.nodes.plugins.build_registry`, which already leaves out plugin packs whose
    node types clash. A plugin that maps a built-in type to a different function is refused
    here too: silently replacing a built-in node would change what existing workflows compute.
    """
    merged: dict[str, NodeImplementation] = {**LIGHT_OPS, **INPUT_OPS, **OUTPUT_OPS, **VIDEO_OPS}
    if plugins:
        clashes = sorted(
            name for name, fn in plugins.items() if name in merged and merged[name] is not fn
        )
        if clashes:
            raise ValueError(
                f"plugin implementations replace built-in node type(s) {', '.join(clashes)}; "
                "rename the plugin's node types"
            )
        merged.update(plugins)
    return MappingProxyType(merged)
