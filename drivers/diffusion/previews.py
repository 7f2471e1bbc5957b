"""Live preview images from latents: a cheap linear projection, or TAESD when one is installed.

The linear projection multiplies each latent pixel's 4 channels by a 4x3 matrix to get R, G, B.
The SD1.5 factors are the published ones (also in ComfyUI's ``comfy/latent_formats.py``, class
``SD15``, which has no bias term for SD1.5; SDXL's has one). The result lies roughly in
[-1, 1] and is mapped to bytes the way ComfyUI's ``latent_preview.py`` does: clamp to [-1, 1],
add 1, multiply by 127.5 and round (not truncate). The preview has the latent's resolution
(1/8 of the image), which is plenty for a progress thumbnail.

TAESD (diffusers ``AutoencoderTiny``) decodes latents to a full-resolution approximation of the
VAE's image at a fraction of its cost; its decoder output is in [-1, 1] like the VAE's and goes
through the same byte mapping. This module only makes the image bytes; framing them for
ComfyUI's WebSocket protocol is the web layer's job.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image

__all__ = [
    "SD15_LATENT_RGB_FACTORS",
    "PreviewFormat",
    "PreviewRenderer",
    "encode_preview",
    "latent_to_rgb",
]

SD15_LATENT_RGB_FACTORS: Final[tuple[tuple[float, float, float], ...]] = (
    # rows: latent channels 0..3; columns: R, G, B
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)

PreviewFormat = Literal["JPEG", "WEBP", "PNG"]
_FORMATS: Final = ("JPEG", "WEBP", "PNG")

RGBImage = npt.NDArray[np.uint8]


def _to_bytes_image(rgb: torch.Tensor) -> RGBImage:
    """(H, W, 3) float in about [-1, 1] -> uint8, as ComfyUI maps previews."""
    scaled = ((rgb.float().clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    out: RGBImage = scaled.to(torch.uint8).cpu().numpy()
    return out


def _pick(latents: torch.Tensor, index: int) -> torch.Tensor:
    if latents.ndim == 4:
        if not -latents.shape[0] <= index < latents.shape[0]:
            raise IndexError(f"preview index {index} is outside the batch of {latents.shape[0]}")
        return latents[index]
    if latents.ndim == 3:
        return latents
    raise ValueError(
        f"latents must be (C, H, W) or (B, C, H, W) to preview, got shape {tuple(latents.shape)}"
    )


def latent_to_rgb(
    latents: torch.Tensor,
    factors: Sequence[Sequence[float]] = SD15_LATENT_RGB_FACTORS,
    bias: Sequence[float] | None = None,
    *,
    index: int = 0,
) -> RGBImage:
    """Project latents (item ``index`` of a batch) to a ``(H, W, 3)`` uint8 RGB array."""
    x = _pick(latents.detach(), index)
    if x.shape[0] != len(factors):
        raise ValueError(
            f"latents have {x.shape[0]} channels but the projection has {len(factors)} rows; "
            "pass the factors of this model family's latent space"
        )
    with torch.inference_mode():
        matrix = torch.tensor(factors, dtype=torch.float32, device=x.device)
        rgb = torch.einsum("chw,cr->hwr", x.float(), matrix)
        if bias is not None:
            rgb = rgb + torch.tensor(bias, dtype=torch.float32, device=x.device)
        return _to_bytes_image(rgb)


def encode_preview(
    rgb: RGBImage,
    format: PreviewFormat = "JPEG",
    max_size: int = 256,
    quality: int = 80,
) -> bytes:
    """Encode an ``(H, W, 3)`` uint8 image, shrunk to fit ``max_size`` (aspect kept)."""
    if format not in _FORMATS:
        raise ValueError(f"preview format {format!r} is not supported; use one of {_FORMATS}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(
            f"preview image must be (H, W, 3) uint8, got shape {rgb.shape} dtype {rgb.dtype}"
        )
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    image = Image.fromarray(rgb)
    if max(image.size) > max_size:
        image.thumbnail((max_size, max_size), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    if format == "PNG":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format=format, quality=quality)
    return buffer.getvalue()


class PreviewRenderer:
    """Decides which steps get a preview and renders them.

    ``every_n`` renders steps n, 2n, ... and always the last step. With ``taesd`` (a diffusers
    ``AutoencoderTiny`` for this model family) previews are decoded by it; otherwise the linear
    projection is used.
    """

    def __init__(
        self,
        every_n: int = 1,
        taesd: Any | None = None,
        *,
        format: PreviewFormat = "JPEG",
        max_size: int = 256,
        quality: int = 80,
        factors: Sequence[Sequence[float]] = SD15_LATENT_RGB_FACTORS,
        bias: Sequence[float] | None = None,
    ) -> None:
        if every_n < 1:
            raise ValueError(f"every_n must be at least 1 (1 = every step), got {every_n}")
        if format not in _FORMATS:
            raise ValueError(f"preview format {format!r} is not supported; use one of {_FORMATS}")
        self.every_n = every_n
        self.taesd = taesd
        self.format: PreviewFormat = format
        self.max_size = max_size
        self.quality = quality
        self.factors = factors
        self.bias = bias

    def wants(self, step: int, total: int) -> bool:
        """Whether completed step ``step`` (1-based) of ``total`` gets a preview."""
        return step == total or step % self.every_n == 0

    def to_rgb(self, latents: torch.Tensor, *, index: int = 0) -> RGBImage:
        """The preview image of batch item ``index`` as ``(H, W, 3)`` uint8."""
        if self.taesd is None:
            return latent_to_rgb(latents, self.factors, self.bias, index=index)
        x = _pick(latents.detach(), index)[None]
        decoder = self.taesd
        with torch.inference_mode():
            x = x.to(device=decoder.device, dtype=decoder.dtype)
            # Pipelines decode `latents / scaling_factor`; AutoencoderTiny's is 1.0 for TAESD.
            image = decoder.decode(x / decoder.config.scaling_factor, return_dict=False)[0]
            return _to_bytes_image(image[0].permute(1, 2, 0))

    def render(self, step: int, total: int, latents: torch.Tensor) -> bytes | None:
        """Encoded preview bytes for this step, or None when the step is skipped."""
        if not self.wants(step, total):
            return None
        return encode_preview(self.to_rgb(latents), self.format, self.max_size, self.quality)


TAESD_DIR: Final = "taesd"


def find_taesd(models_dir: Path, device: torch.device | str = "cpu") -> Any | None:
    """The TAESD decoder installed as ``<models dir>/taesd`` (a diffusers ``AutoencoderTiny``
    folder, e.g. madebyollin/taesd), or None when there is none."""
    folder = Path(models_dir) / TAESD_DIR
    config = folder / "config.json"
    if not config.is_file():
        return None
    import json

    if json.loads(config.read_text(encoding="utf-8")).get("_class_name") != "AutoencoderTiny":
        raise ValueError(
            f"{folder} is not a TAESD decoder (its config.json is not an AutoencoderTiny); "
            "remove or rename that folder"
        )
    from diffusers import AutoencoderTiny

    decoder: Any = AutoencoderTiny.from_pretrained(  # type: ignore[no-untyped-call]
        str(folder), local_files_only=True
    )
    return decoder.to(device).eval().requires_grad_(False)
