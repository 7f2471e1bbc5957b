"""The values diffusion nodes pass each other through the output store.

MODEL, CLIP and VAE outputs are :class:`ModelRef` handles, not the modules: the model manager
owns the weights (its LRU decides what stays loaded) and a node leases them while it runs, so
the node output cache never pins gigabytes. A LATENT is ComfyUI's dict (``samples``: a CPU
float32 ``(B, 4, H/8, W/8)`` tensor, optionally ``noise_mask``), so ported custom nodes read it
unchanged; IMAGE is ``(B, H, W, 3)`` float in [0, 1] and MASK ``(B, H, W)``, as in ComfyUI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

Part = Literal["unet", "clip", "vae"]
Latent = dict[str, Any]


@dataclass(frozen=True)
class ModelRef:
    """One part of a model in the model manager, named by its store name and content id."""

    name: str
    model_id: str
    part: Part
    clip_skip: int | None = None  # CLIP only: hidden layers skipped from the end

    def with_clip_skip(self, clip_skip: int | None) -> ModelRef:
        return replace(self, clip_skip=clip_skip)


def expect_ref(value: Any, part: Part, node: str, name: str) -> ModelRef:
    if not isinstance(value, ModelRef) or value.part != part:
        got = value.part if isinstance(value, ModelRef) else type(value).__name__
        raise TypeError(
            f"{node}: input {name!r} must be a {part.upper()} from a model loader, got {got}; "
            "link it to CheckpointLoaderSimple's matching output"
        )
    return value


def latent_samples(value: Any, node: str, name: str = "samples") -> torch.Tensor:
    samples = value.get("samples") if isinstance(value, dict) else None
    if not isinstance(samples, torch.Tensor) or samples.ndim != 4:
        raise TypeError(
            f"{node}: input {name!r} must be a LATENT (a dict with a (B, C, H, W) 'samples' "
            f"tensor), got {type(value).__name__}"
        )
    return samples


def image_tensor(value: Any, node: str, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim != 4 or value.shape[-1] not in (3, 4):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise TypeError(f"{node}: input {name!r} must be an IMAGE (B, H, W, 3), got {shape}")
    return value[..., :3]


def mask_tensor(value: Any, node: str, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim not in (2, 3):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise TypeError(f"{node}: input {name!r} must be a MASK (B, H, W), got {shape}")
    return value if value.ndim == 3 else value[None]
