"""CPU implementations of the light image nodes (resize, crop, pad, flip, blend, composite).

IMAGE is float32 ``[B, H, W, C]`` in 0..1 and MASK ``[B, H, W]``, as in ComfyUI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from drivers.nodes.node_inputs import NodeInputError, _arg, _image, _mask, _pick

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
