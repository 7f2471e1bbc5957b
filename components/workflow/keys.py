"""Cache keys: what a node's output is a function of.

A node's key hashes its type and version, its literal inputs, and the keys (and output index)
of the nodes its links come from. Two runs with equal keys produce equal outputs, so a key in
the cache means the node need not run again, and a change anywhere upstream changes the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from components.nodes.catalog import Catalog
from components.workflow.graph import Graph, Link


def node_key(node_type: str, version: int, inputs: Mapping[str, object]) -> str:
    """``inputs`` maps names to literals, or to ``(upstream key, output index)`` for links."""
    document = [
        node_type,
        version,
        sorted(
            ([name, "link", list(value)] if isinstance(value, tuple) else [name, "value", value])
            for name, value in inputs.items()
        ),
    ]
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def graph_keys(graph: Graph, catalog: Catalog, node_ids: frozenset[str]) -> dict[str, str]:
    """Keys of ``node_ids`` (which must include all their ancestors), in one topological pass."""
    keys: dict[str, str] = {}
    for node_id in graph.topological_order():
        if node_id not in node_ids:
            continue
        node = graph.node(node_id)
        inputs: dict[str, object] = {}
        for name, value in node.inputs.items():
            if isinstance(value, Link):
                inputs[name] = (keys[value.node_id], value.output_index)
            else:
                inputs[name] = value
        keys[node_id] = node_key(node.type, catalog.get(node.type).version, inputs)
    return keys
