"""A synthetic rxgen workflow document for the editor benchmark: ``nodes`` nodes of the server's
own node types on a grid and ``links`` type-correct links that always point to a column further
right (so the graph has no cycle). Deterministic for a given seed, so every run draws the same
scene. The editor opens it through its file field, the way a user opens a saved workflow."""

from __future__ import annotations

import math
import random
from typing import Any

DOCUMENT_FORMAT = "rxgen.workflow"
COLUMN_STEP = 360  # px between node columns: wider than a node
ROW_STEP = 420  # px between rows: taller than most nodes


def _input_types(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, type) of every input that takes a link; choice lists are widgets only."""
    inputs: list[tuple[str, str]] = []
    for section in ("required", "optional"):
        for name, spec in (definition.get("input", {}).get(section) or {}).items():
            kind = spec[0] if isinstance(spec, list) and spec else None
            if isinstance(kind, str):
                inputs.append((name, kind))
    return inputs


def _widget_defaults(definition: dict[str, Any]) -> dict[str, Any]:
    """Literal values for the widget inputs (their defaults, or a choice list's first entry),
    so that the nodes show filled rows as a real workflow's would."""
    values: dict[str, Any] = {}
    for section in ("required", "optional"):
        for name, spec in (definition.get("input", {}).get(section) or {}).items():
            if not isinstance(spec, list) or not spec:
                continue
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if isinstance(spec[0], list) and spec[0]:
                values[name] = spec[0][0]
            elif "default" in options:
                values[name] = options["default"]
    return values


def synthetic_document(
    catalog: dict[str, Any], nodes: int = 500, links: int = 700, seed: int = 7
) -> tuple[dict[str, Any], int]:
    """The document and how many links it got (``links`` unless the catalog cannot give more).

    ``catalog`` is the answer of ``GET /api/nodes`` (``{"nodes": {name: object_info}}``).
    """
    definitions: dict[str, Any] = catalog.get("nodes", catalog)
    types = sorted(name for name, d in definitions.items() if _input_types(d) or d.get("output"))
    if not types:
        raise ValueError("the node catalog has no types with inputs or outputs to lay out")
    rng = random.Random(seed)
    columns = math.ceil(math.sqrt(nodes * 1.5))
    graph: dict[str, Any] = {}
    layout: dict[str, Any] = {}
    kinds: list[str] = []
    for i in range(nodes):
        kind = rng.choice(types)
        kinds.append(kind)
        graph[str(i + 1)] = {"class_type": kind, "inputs": _widget_defaults(definitions[kind])}
        layout[str(i + 1)] = {"pos": [(i % columns) * COLUMN_STEP, (i // columns) * ROW_STEP]}
    made = 0
    for _ in range(links * 50):
        if made >= links:
            break
        to = rng.randrange(nodes)
        column = to % columns
        if column == 0:
            continue
        source = (to // columns) * columns + rng.randrange(column)
        outputs = definitions[kinds[source]].get("output") or []
        if not outputs:
            continue
        slot = rng.randrange(len(outputs))
        target_inputs = graph[str(to + 1)]["inputs"]
        free = [
            name
            for name, kind in _input_types(definitions[kinds[to]])
            if not isinstance(target_inputs.get(name), list)
            and (kind == outputs[slot] or "*" in (kind, outputs[slot]))
        ]
        if not free:
            continue
        target_inputs[free[0]] = [str(source + 1), slot]
        made += 1
    document = {
        "format": DOCUMENT_FORMAT,
        "format_version": 1,
        "graph": graph,
        "layout": layout,
        "notes": [],
        "groups": [],
        "metadata": {"made_by": "bench/editor_graph.py"},
    }
    return document, made
