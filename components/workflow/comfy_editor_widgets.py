"""ComfyUI editor widget values: naming the positional ``widgets_values`` of a node, and back.

The editor stores widget values by position, in the order of the node type's widget inputs. Some
widgets are followed by an extra value that is not an input: the seed's
``control_after_generate`` (also added by old editors after any INT widget named like a seed)
and LoadImage's upload button.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import JsonValue

from components.nodes.schema import InputSpec, NodeDef
from components.nodes.types import SocketType
from components.workflow.graph import Link, Node

__all__ = [
    "SEED_CONTROL_VALUES",
    "has_control",
    "is_control",
    "read_widget_values",
    "write_widget_values",
]

SEED_CONTROL_VALUES: Final = frozenset({"fixed", "increment", "decrement", "randomize"})
# Old editors added a control widget after any INT widget with these names.
_SEED_NAMES: Final = frozenset({"seed", "noise_seed"})
_UPLOAD_VALUE: Final = "image"


def read_widget_values(
    where: str, definition: NodeDef, raw_values: Any, warnings: list[str]
) -> tuple[dict[str, JsonValue], dict[str, JsonValue]]:
    """Name a node's positional ``widgets_values``: (values by input name, widget controls).

    Skips the extra values that follow some widgets (a seed's control_after_generate, kept as a
    control; an upload button's value, dropped). Missing values get the input's default; every
    gap or surplus is reported in ``warnings``, prefixed with ``where``.
    """
    specs = definition.widget_inputs
    if raw_values is None:
        raw_values = []
    if isinstance(raw_values, Mapping):
        # Some node packs store widget values by name.
        return {s.name: raw_values[s.name] for s in specs if s.name in raw_values}, {}
    if not isinstance(raw_values, list):
        warnings.append(f"{where}: widgets_values is not a list; widget values ignored")
        return {}, {}
    values: dict[str, JsonValue] = {}
    controls: dict[str, JsonValue] = {}
    position = 0
    for index, spec in enumerate(specs):
        if position >= len(raw_values):
            default = spec.effective_default()
            warnings.append(
                f"{where}: no stored value for widget {spec.name!r}; using its default {default!r}"
            )
            if default is not None:
                values[spec.name] = default
            continue
        values[spec.name] = raw_values[position]
        position += 1
        spare = (len(raw_values) - position) - (len(specs) - index - 1)
        if has_control(spec) and spare > 0 and is_control(raw_values[position]):
            controls[spec.name] = raw_values[position]
            position += 1
            spare -= 1
        if spec.image_upload and spare > 0:
            position += 1  # the upload button's own value
    if position < len(raw_values):
        warnings.append(
            f"{where}: {len(raw_values) - position} extra widget value(s) ignored; the "
            "workflow may come from a newer version of this node"
        )
    return values, controls


def write_widget_values(
    node: Node, definition: NodeDef, controls: Mapping[str, JsonValue]
) -> list[JsonValue]:
    """A node's ``widgets_values`` in editor order, with the extra values the editor expects
    after some widgets (``controls``' seed controls, else "fixed"; the upload button's)."""
    values: list[JsonValue] = []
    for spec in definition.widget_inputs:
        value = node.inputs.get(spec.name)
        values.append(
            spec.effective_default() if value is None or isinstance(value, Link) else value
        )
        if has_control(spec) and (spec.control_after_generate or spec.name in controls):
            values.append(controls.get(spec.name, "fixed"))
        if spec.image_upload:
            values.append(_UPLOAD_VALUE)
    return values


def has_control(spec: InputSpec) -> bool:
    """Whether the editor may store a control value (e.g. "randomize") after this widget."""
    return spec.control_after_generate or (spec.type == SocketType.INT and spec.name in _SEED_NAMES)


def is_control(value: Any) -> bool:
    """Whether a stored widget value is a control value rather than the next widget's."""
    return isinstance(value, bool) or value in SEED_CONTROL_VALUES
