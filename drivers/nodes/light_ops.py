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

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

NodeFunction = Callable[[Mapping[str, Any]], tuple[Any, ...]]


class NodeInputError(ValueError):
    """A node got inputs it cannot work with; the message names the node and the input."""


# --- input access -------------------------------------------------------------------------------


def _arg(inputs: Mapping[str, Any], node: str, name: str) -> Any:
    try:
        return inputs[name]
    except KeyError:
        raise NodeInputError(
            f"{node}: required input {name!r} was not given; got {sorted(inputs) or 'nothing'}"
        ) from None


def _image(inputs: Mapping[str, Any], node: str, name: str) -> torch.Tensor:
    value = _arg(inputs, node, name)
    if not isinstance(value, torch.Tensor) or value.ndim != 4:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise NodeInputError(f"{node}: input {name!r} must be an IMAGE [B,H,W,C], got {shape}")
    return value


def _mask(value: Any, node: str, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim not in (2, 3):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise NodeInputError(f"{node}: input {name!r} must be a MASK [B,H,W], got {shape}")
    return value if value.ndim == 3 else value.unsqueeze(0)


# --- image helpers ------------------------------------------------------------------------------

RESIZE_METHODS: Final = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")


def resize_images(
    images: torch.Tensor, width: int, height: int, method: str, crop: str = "disabled"
) -> torch.Tensor:
    """Resize ``[B,H,W,C]`` images; ``crop="center"`` first cuts them to the target aspect."""
    if method not in RESIZE_METHODS:
        raise NodeInputError(f"resize: unknown method {method!r}; use one of {RESIZE_METHODS}")
    if width < 1 or height < 1:
        raise NodeInputError(f"resize: target size must be at least 1x1, got {width}x{height}")
    _, old_h, old_w, _ = images.shape
    if crop == "center":
        images = _center_crop_to_aspect(images, width / height)
        _, old_h, old_w, _ = images.shape
    if (old_h, old_w) == (height, width):
        return images
    if method == "lanczos":
        return _lanczos(images, width, height)
    samples = images.movedim(-1, 1)
    resized = F.interpolate(samples, size=(height, width), mode=method)
    if method == "bicubic":
        resized = resized.clamp(0.0, 1.0)  # cubic overshoot would leave the 0..1 range
    return resized.movedim(1, -1).contiguous()


def _center_crop_to_aspect(images: torch.Tensor, aspect: float) -> torch.Tensor:
    _, height, width, _ = images.shape
    current = width / height
    if current > aspect:
        keep = max(1, round(height * aspect))
        left = (width - keep) // 2
        return images[:, :, left : left + keep, :]
    if current < aspect:
        keep = max(1, round(width / aspect))
        top = (height - keep) // 2
        return images[:, top : top + keep, :, :]
    return images


def _lanczos(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    # Pillow's float mode keeps full precision; one channel at a time.
    array = images.detach().cpu().float().numpy()
    out = np.empty((array.shape[0], height, width, array.shape[3]), dtype=np.float32)
    for b in range(array.shape[0]):
        for c in range(array.shape[3]):
            plane = Image.fromarray(np.ascontiguousarray(array[b, :, :, c]), mode="F")
            out[b, :, :, c] = np.asarray(plane.resize((width, height), Image.Resampling.LANCZOS))
    result = torch.from_numpy(out).clamp(0.0, 1.0)
    return result.to(device=images.device, dtype=images.dtype)


def _match_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    current = images.shape[-1]
    if current == channels:
        return images
    if current > channels:
        return images[..., :channels]
    # Missing channels (an alpha) are opaque.
    pad = torch.ones((*images.shape[:-1], channels - current), dtype=images.dtype)
    return torch.cat((images, pad.to(images.device)), dim=-1)


def _repeat_to_batch(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    if tensor.shape[0] == batch:
        return tensor
    repeats = math.ceil(batch / tensor.shape[0])
    return tensor.repeat((repeats, *([1] * (tensor.ndim - 1))))[:batch]


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


def _pick(table: Mapping[str, Any], key: Any, node: str) -> Any:
    try:
        return table[key]
    except (KeyError, TypeError):
        raise NodeInputError(
            f"{node}: unknown operation {key!r}; use one of {', '.join(table)}"
        ) from None


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


# --- images -------------------------------------------------------------------------------------


def image_scale(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageScale"
    image = _image(inputs, node, "image")
    width, height = int(_arg(inputs, node, "width")), int(_arg(inputs, node, "height"))
    if width == 0 and height == 0:
        return (image,)
    _, old_h, old_w, _ = image.shape
    if width == 0:
        width = max(1, round(old_w * height / old_h))
    elif height == 0:
        height = max(1, round(old_h * width / old_w))
    method = _arg(inputs, node, "upscale_method")
    return (resize_images(image, width, height, method, inputs.get("crop", "disabled")),)


def image_scale_by(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageScaleBy"
    image = _image(inputs, node, "image")
    scale = float(_arg(inputs, node, "scale_by"))
    _, old_h, old_w, _ = image.shape
    width, height = max(1, round(old_w * scale)), max(1, round(old_h * scale))
    return (resize_images(image, width, height, _arg(inputs, node, "upscale_method")),)


def image_invert(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    return (1.0 - _image(inputs, "ImageInvert", "image"),)


def image_batch(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageBatch"
    first, second = _image(inputs, node, "image1"), _image(inputs, node, "image2")
    second = _match_channels(second, first.shape[-1])
    if second.shape[1:3] != first.shape[1:3]:
        second = resize_images(second, first.shape[2], first.shape[1], "bilinear", "center")
    return (torch.cat((first, second.to(first.dtype)), dim=0),)


def empty_image(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "EmptyImage"
    width, height = int(_arg(inputs, node, "width")), int(_arg(inputs, node, "height"))
    batch = int(inputs.get("batch_size", 1))
    color = int(inputs.get("color", 0))
    rgb = torch.tensor(
        [((color >> 16) & 0xFF) / 255.0, ((color >> 8) & 0xFF) / 255.0, (color & 0xFF) / 255.0],
        dtype=torch.float32,
    )
    return (rgb.expand(batch, height, width, 3).clone(),)


def image_pad_for_outpaint(inputs: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    node = "ImagePadForOutpaint"
    image = _image(inputs, node, "image")
    left, top, right, bottom = (int(_arg(inputs, node, side)) for side in _SIDES)
    feathering = int(inputs.get("feathering", 40))
    batch, height, width, channels = image.shape
    padded = torch.full(
        (batch, height + top + bottom, width + left + right, channels), 0.5, dtype=image.dtype
    )
    padded[:, top : top + height, left : left + width, :] = image
    mask = torch.ones((height + top + bottom, width + left + right), dtype=torch.float32)
    inner = torch.zeros((height, width), dtype=torch.float32)
    if feathering > 0 and feathering * 2 < height and feathering * 2 < width:
        rows = torch.arange(height, dtype=torch.float32).unsqueeze(1).expand(height, width)
        cols = torch.arange(width, dtype=torch.float32).unsqueeze(0).expand(height, width)
        # Distance to each padded border; an unpadded side never counts as near.
        far_h, far_w = torch.full_like(rows, height), torch.full_like(cols, width)
        distance = torch.stack(
            (
                rows if top else far_h,
                height - rows if bottom else far_h,
                cols if left else far_w,
                width - cols if right else far_w,
            )
        ).amin(dim=0)
        weight = (feathering - distance) / feathering
        inner = torch.where(distance < feathering, weight * weight, inner)
    mask[top : top + height, left : left + width] = inner
    return padded, mask.unsqueeze(0).expand(batch, -1, -1).clone()


_SIDES: Final = ("left", "top", "right", "bottom")


def image_crop(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageCrop"
    image = _image(inputs, node, "image")
    width, height = int(_arg(inputs, node, "width")), int(_arg(inputs, node, "height"))
    _, img_h, img_w, _ = image.shape
    # Like ComfyUI, an origin outside the image is pulled back onto its last row/column.
    x = min(int(_arg(inputs, node, "x")), img_w - 1)
    y = min(int(_arg(inputs, node, "y")), img_h - 1)
    return (image[:, y : y + height, x : x + width, :],)


def image_flip(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageFlip"
    image = _image(inputs, node, "image")
    method = str(_arg(inputs, node, "flip_method"))
    if method.startswith("x"):
        return (torch.flip(image, dims=[1]),)
    if method.startswith("y"):
        return (torch.flip(image, dims=[2]),)
    raise NodeInputError(f"{node}: unknown flip_method {method!r}")


def _soft_light(base: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    # The W3C compositing soft-light formula.
    darken = base - (1 - 2 * top) * base * (1 - base)
    curve = torch.where(base <= 0.25, ((16 * base - 12) * base + 4) * base, torch.sqrt(base))
    lighten = base + (2 * top - 1) * (curve - base)
    return torch.where(top <= 0.5, darken, lighten)


BLEND_MODES: Final[dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = {
    "normal": lambda base, top: top,
    "multiply": lambda base, top: base * top,
    "screen": lambda base, top: 1 - (1 - base) * (1 - top),
    "overlay": lambda base, top: torch.where(
        base <= 0.5, 2 * base * top, 1 - 2 * (1 - base) * (1 - top)
    ),
    "soft_light": _soft_light,
    "difference": lambda base, top: (base - top).abs(),
}


def image_blend(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageBlend"
    base, top = _image(inputs, node, "image1"), _image(inputs, node, "image2")
    factor = float(_arg(inputs, node, "blend_factor"))
    mode = _pick(BLEND_MODES, _arg(inputs, node, "blend_mode"), node)
    top = _match_channels(top, base.shape[-1])
    if top.shape[1:3] != base.shape[1:3]:
        top = resize_images(top, base.shape[2], base.shape[1], "bicubic", "center")
    top = _repeat_to_batch(top, base.shape[0]).to(base.dtype)
    blended = mode(base, top)
    return ((base * (1 - factor) + blended * factor).clamp(0.0, 1.0),)


def image_composite_masked(inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
    node = "ImageCompositeMasked"
    destination = _image(inputs, node, "destination")
    source = _image(inputs, node, "source")
    x, y = int(_arg(inputs, node, "x")), int(_arg(inputs, node, "y"))
    batch, dst_h, dst_w, channels = destination.shape
    if inputs.get("resize_source", False):
        source = resize_images(source, dst_w, dst_h, "bilinear")
    source = _repeat_to_batch(_match_channels(source, channels), batch).to(destination.dtype)
    _, src_h, src_w, _ = source.shape

    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + src_w, dst_w), min(y + src_h, dst_h)
    output = destination.clone()
    if x1 <= x0 or y1 <= y0:
        return (output,)  # the source lies entirely outside the destination
    src_region = source[:, y0 - y : y1 - y, x0 - x : x1 - x, :]

    raw_mask = inputs.get("mask")
    if raw_mask is None:
        output[:, y0:y1, x0:x1, :] = src_region
        return (output,)
    mask = _mask(raw_mask, node, "mask").to(destination.dtype)
    if mask.shape[1:] != (src_h, src_w):
        mask = F.interpolate(mask.unsqueeze(1), size=(src_h, src_w), mode="bilinear").squeeze(1)
    mask = _repeat_to_batch(mask, batch)[:, y0 - y : y1 - y, x0 - x : x1 - x].unsqueeze(-1)
    dst_region = output[:, y0:y1, x0:x1, :]
    output[:, y0:y1, x0:x1, :] = mask * src_region + (1 - mask) * dst_region
    return (output,)


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
