"""Text-to-video generation with diffusers' ``TextToVideoSDPipeline`` (ModelScope's model).

Progress every denoising step through the pipeline's step callback; a cancel raises out of that
callback, so it lands within one step; previews show the middle frame of the current latents
through the same cheap latent-to-RGB projection as image previews (the VAE and latent space are
SD's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from drivers.diffusion.manager import LoadedModel
from drivers.diffusion.sampling import SamplingCancelled

StepHook = Callable[[int, int, torch.Tensor], None]

MAX_FRAMES = 256


def generate_video(
    model: LoadedModel,
    prompt: str,
    negative_prompt: str,
    *,
    frames: int,
    width: int,
    height: int,
    steps: int,
    guidance: float,
    seed: int,
    on_step: StepHook | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray[Any, Any]:
    """Frames as ``(frames, height, width, 3)`` uint8. ``on_step(step, total, frame_latents)``
    gets the middle frame's latents ``(1, 4, h, w)`` after every step."""
    if not model.is_video:
        raise ValueError(
            f"model {model.name!r} is an image model; text-to-video needs a text-to-video model "
            "such as ModelScope's (try `rxgen models create-tiny NAME --kind t2v`)"
        )
    if not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be between 1 and {MAX_FRAMES}, got {frames}")
    if width % 8 or height % 8 or width < 8 or height < 8:
        raise ValueError(f"size {width}x{height} must be positive multiples of 8")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    pipe = model.pipeline()

    def callback(step: int, _timestep: Any, latents: torch.Tensor) -> None:
        if cancelled is not None and cancelled():
            raise SamplingCancelled(step + 1, steps)
        if on_step is not None:
            on_step(step + 1, steps, latents[:, :, latents.shape[2] // 2].float())

    result = pipe(
        prompt,
        negative_prompt=negative_prompt or None,
        num_frames=frames,
        height=height,
        width=width,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
        callback=callback,
        callback_steps=1,
    )
    video = np.asarray(result.frames[0] if result.frames.ndim == 5 else result.frames)
    out: np.ndarray[Any, Any] = (np.clip(video, 0.0, 1.0) * 255).round().astype(np.uint8)
    return out
