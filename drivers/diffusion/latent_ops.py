"""Nodes that make and reshape latents without a model: EmptyLatentImage, LatentUpscale(By),
SetLatentNoiseMask. SD latents have 4 channels at 1/8 of the image size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import torch
import torch.nn.functional as F

from drivers.diffusion.values import Latent, latent_samples, mask_tensor

LATENT_CHANNELS: Final = 4
_MODES: Final = {"nearest-exact": "nearest-exact", "bilinear": "bilinear", "area": "area"}


def empty_latent_image(inputs: Mapping[str, Any]) -> tuple[Latent]:
    width, height, batch = int(inputs["width"]), int(inputs["height"]), int(inputs["batch_size"])
    if width % 8 or height % 8:
        raise ValueError(
            f"EmptyLatentImage: {width}x{height} is not a multiple of 8 in both directions; "
            "SD latents are 1/8 of the image, so use multiples of 8"
        )
    samples = torch.zeros(batch, LATENT_CHANNELS, height // 8, width // 8)
    return ({"samples": samples},)


def upscale(samples: torch.Tensor, method: str, width: int, height: int, crop: str) -> torch.Tensor:
    """Resize latents to ``width`` x ``height`` latent pixels, optionally center-cropping first
    so the aspect ratio is kept."""
    if crop == "center":
        old_w, old_h = samples.shape[-1], samples.shape[-2]
        old_aspect, new_aspect = old_w / old_h, width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_w - old_w * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_h - old_h * (old_aspect / new_aspect)) / 2)
        samples = samples[..., y : old_h - y, x : old_w - x]
    if method == "bicubic":
        return F.interpolate(samples, size=(height, width), mode="bicubic", align_corners=False)
    if method not in _MODES:
        raise ValueError(
            f"latent upscale method {method!r} is not supported; use one of "
            f"{', '.join([*_MODES, 'bicubic'])}"
        )
    mode = _MODES[method]
    if mode == "bilinear":
        return F.interpolate(samples, size=(height, width), mode=mode, align_corners=False)
    return F.interpolate(samples, size=(height, width), mode=mode)


def latent_upscale(inputs: Mapping[str, Any]) -> tuple[Latent]:
    node = "LatentUpscale"
    latent = inputs["samples"]
    samples = latent_samples(latent, node)
    width, height = int(inputs["width"]), int(inputs["height"])
    if width == 0 and height == 0:
        return (latent,)
    old_h, old_w = samples.shape[-2] * 8, samples.shape[-1] * 8
    # ComfyUI's convention: a zero side follows the other side's scale.
    if width == 0:
        width = max(64, round(old_w * height / old_h))
    if height == 0:
        height = max(64, round(old_h * width / old_w))
    out = upscale(samples, inputs["upscale_method"], width // 8, height // 8, inputs["crop"])
    return ({**latent, "samples": out},)


def latent_upscale_by(inputs: Mapping[str, Any]) -> tuple[Latent]:
    latent = inputs["samples"]
    samples = latent_samples(latent, "LatentUpscaleBy")
    scale = float(inputs["scale_by"])
    width = max(1, round(samples.shape[-1] * scale))
    height = max(1, round(samples.shape[-2] * scale))
    out = upscale(samples, inputs["upscale_method"], width, height, "disabled")
    return ({**latent, "samples": out},)


def set_latent_noise_mask(inputs: Mapping[str, Any]) -> tuple[Latent]:
    latent = inputs["samples"]
    latent_samples(latent, "SetLatentNoiseMask")
    mask = mask_tensor(inputs["mask"], "SetLatentNoiseMask", "mask")
    return ({**latent, "noise_mask": mask.float()},)


LATENT_OPS: Final = {
    "EmptyLatentImage": empty_latent_image,
    "LatentUpscale": latent_upscale,
    "LatentUpscaleBy": latent_upscale_by,
    "SetLatentNoiseMask": set_latent_noise_mask,
}
