"""CPU implementations of the light nodes defined in ``components/nodes/light.py``.

Tensors follow ComfyUI: IMAGE is float32 ``[B, H, W, C]`` in 0..1, MASK is ``[B, H, W]``. Each
function takes the node's resolved inputs by name and returns the tuple of its outputs. Seeds
arrive already chosen: drawing a random one is the executor's job (through the entropy driver).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from drivers.nodes.image_ops import (
    BLEND_MODES,
    RESIZE_METHODS,
    empty_image,
    image_batch,
    image_blend,
    image_composite_masked,
    image_crop,
    image_flip,
    image_invert,
    image_pad_for_outpaint,
    image_scale,
    image_scale_by,
    resize_images,
)
from drivers.nodes.node_inputs import NodeInputError, _arg, _pick

NodeFunction = Callable[[Mapping[str, Any]], tuple[Any, ...]]

__all__ = [
    "BLEND_MODES",
    "LIGHT_OPS",
    "RESIZE_METHODS",
    "SCALAR_OPS",
    "NodeFunction",
    "NodeInputError",
    "resize_images",
]


# --- primitives ---------------------------------------------------------------------------------


def _passthrough(node: str, name: str = "value") -> NodeFunction:
    def run(inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        return (_arg(inputs, node, name),)

    return run


def seed(inputs: Mapping[str, Any]) -> tuple[int]:
    return (int(_arg(inputs, "Seed", "seed")),)


# --- math ---------------------------------------------------------------------------------------

_MAX_INT_EXPONENT: Final = 4096


def int_math(inputs: Mapping[str, Any]) -> tuple[int]:
    node = "IntMath"
    a, b = int(_arg(inputs, node, "a")), int(_arg(inputs, node, "b"))
    op = _arg(inputs, node, "operation")
    if op in ("div", "mod") and b == 0:
        raise NodeInputError(f"{node}: {op} by zero (b is 0); give b a non-zero value")
    if op == "pow" and b < 0:
        raise NodeInputError(f"{node}: pow with a negative exponent ({b}) is not an integer")
    if op == "pow" and b > _MAX_INT_EXPONENT and abs(a) > 1:
        raise NodeInputError(f"{node}: exponent {b} is too large (at most {_MAX_INT_EXPONENT})")
    ops: dict[str, Callable[[int, int], int]] = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.floordiv,
        "min": min,
        "max": max,
        "pow": operator.pow,
        "mod": operator.mod,
    }
    return (_pick(ops, op, node)(a, b),)


def float_math(inputs: Mapping[str, Any]) -> tuple[float]:
    node = "FloatMath"
    a, b = float(_arg(inputs, node, "a")), float(_arg(inputs, node, "b"))
    op = _arg(inputs, node, "operation")
    if op in ("div", "mod") and b == 0.0:
        raise NodeInputError(f"{node}: {op} by zero (b is 0); give b a non-zero value")
    ops: dict[str, Callable[[float, float], float]] = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.truediv,
        "min": min,
        "max": max,
        "pow": math.pow,
        "mod": operator.mod,
    }
    try:
        result = _pick(ops, op, node)(a, b)
    except (OverflowError, ValueError) as error:
        raise NodeInputError(f"{node}: {a} {op} {b} has no real result ({error})") from None
    if not math.isfinite(result):
        raise NodeInputError(f"{node}: {a} {op} {b} is not a finite number")
    return (result,)


_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(node: str, convert: Callable[[Any], Any]) -> NodeFunction:
    def run(inputs: Mapping[str, Any]) -> tuple[bool]:
        a, b = convert(_arg(inputs, node, "a")), convert(_arg(inputs, node, "b"))
        op = _pick(_COMPARISONS, _arg(inputs, node, "operation"), node)
        return (bool(op(a, b)),)

    return run


def int_to_float(inputs: Mapping[str, Any]) -> tuple[float]:
    return (float(_arg(inputs, "IntToFloat", "value")),)


def float_to_int(inputs: Mapping[str, Any]) -> tuple[int]:
    node = "FloatToInt"
    value = float(_arg(inputs, node, "value"))
    if not math.isfinite(value):
        raise NodeInputError(f"{node}: {value} cannot be made an integer")
    rounding = inputs.get("rounding", "round")
    modes: dict[str, Callable[[float], int]] = {
        # Half away from zero, as people round by hand (Python's round() rounds half to even).
        "round": lambda v: int(math.copysign(math.floor(abs(v) + 0.5), v)),
        "floor": math.floor,
        "ceil": math.ceil,
        "truncate": math.trunc,
    }
    return (_pick(modes, rounding, node)(value),)


# --- strings ------------------------------------------------------------------------------------


def string_concatenate(inputs: Mapping[str, Any]) -> tuple[str]:
    node = "StringConcatenate"
    a, b = str(_arg(inputs, node, "string_a")), str(_arg(inputs, node, "string_b"))
    return (str(inputs.get("delimiter", "")).join((a, b)),)


_PLACEHOLDER: Final = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEMPLATE_SLOTS: Final = ("a", "b", "c", "d")


def prompt_template(inputs: Mapping[str, Any]) -> tuple[str]:
    node = "PromptTemplate"
    template = str(_arg(inputs, node, "template"))
    values = parse_template_values(str(inputs.get("values", "")), node)
    for slot in TEMPLATE_SLOTS:
        if inputs.get(slot) is not None:
            values[slot] = str(inputs[slot])  # a linked slot wins over a 'values' line

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise NodeInputError(
                f"{node}: placeholder {{{name}}} has no value; known names: {known}. Add a "
                f"line '{name}=...' to 'values' or link input a-d"
            )
        return values[name]

    return (_PLACEHOLDER.sub(fill, template),)


def parse_template_values(text: str, node: str = "PromptTemplate") -> dict[str, str]:
    """``name=value`` lines into a mapping; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise NodeInputError(
                f"{node}: line {number} of 'values' is {line!r}; write it as name=value"
            )
        values[name] = value.strip()
    return values


LIGHT_OPS: Final[Mapping[str, NodeFunction]] = {
    "PrimitiveInt": _passthrough("PrimitiveInt"),
    "PrimitiveFloat": _passthrough("PrimitiveFloat"),
    "PrimitiveString": _passthrough("PrimitiveString"),
    "PrimitiveStringMultiline": _passthrough("PrimitiveStringMultiline"),
    "PrimitiveBoolean": _passthrough("PrimitiveBoolean"),
    "Seed": seed,
    "IntMath": int_math,
    "FloatMath": float_math,
    "IntCompare": _compare("IntCompare", int),
    "FloatCompare": _compare("FloatCompare", float),
    "IntToFloat": int_to_float,
    "FloatToInt": float_to_int,
    "StringConcatenate": string_concatenate,
    "PromptTemplate": prompt_template,
    "ImageScale": image_scale,
    "ImageScaleBy": image_scale_by,
    "ImageInvert": image_invert,
    "ImageBatch": image_batch,
    "EmptyImage": empty_image,
    "ImagePadForOutpaint": image_pad_for_outpaint,
    "ImageCrop": image_crop,
    "ImageFlip": image_flip,
    "ImageBlend": image_blend,
    "ImageCompositeMasked": image_composite_masked,
}

# Nodes on plain numbers and strings: microseconds of work, so the node runner runs them on the
# loop rather than paying a thread hop (about 0.3 ms) for each.
SCALAR_OPS: Final[frozenset[str]] = frozenset(
    {
        "PrimitiveInt",
        "PrimitiveFloat",
        "PrimitiveString",
        "PrimitiveStringMultiline",
        "PrimitiveBoolean",
        "Seed",
        "IntMath",
        "FloatMath",
        "IntCompare",
        "FloatCompare",
        "IntToFloat",
        "FloatToInt",
        "StringConcatenate",
        "PromptTemplate",
    }
)
