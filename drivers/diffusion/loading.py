"""Reading a model's components from disk with diffusers: Stable Diffusion 1.x/2.x pipelines
(a diffusers directory or a single-file checkpoint) and ModelScope-style text-to-video pipelines
(a diffusers directory). Both have the same parts: UNet, VAE, CLIP text encoder and tokenizer,
and a scheduler configuration; only the UNet differs (2-D or 3-D)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import torch

from .models import ModelInfo
from .store_errors import ModelStoreError

Component = Literal["unet", "vae", "text_encoder", "tokenizer", "scheduler_config"]

IMAGE_PIPELINES: Final = frozenset(
    {
        "StableDiffusionPipeline",
        "StableDiffusionImg2ImgPipeline",
        "StableDiffusionInpaintPipeline",
    }
)
VIDEO_PIPELINES: Final = frozenset({"TextToVideoSDPipeline"})
SUPPORTED_PIPELINES: Final = IMAGE_PIPELINES | VIDEO_PIPELINES


class ModelLoadError(ModelStoreError):
    """A model could not be loaded; the message names the model, the file and the fix."""


def is_video_model(info: ModelInfo) -> bool:
    return info.pipeline_class in VIDEO_PIPELINES


def load_components(
    info: ModelInfo, have: Mapping[Component, Any], *, dtype: torch.dtype, allow_pickle: bool
) -> dict[Component, Any]:
    """The model's parts, read from ``info.path``; parts in ``have`` are reused, not read."""
    kwargs: dict[str, Any] = {_DTYPE_KWARG: dtype, "local_files_only": True}
    # Components still cached are passed in, so diffusers reads only the missing ones.
    kwargs.update({c: v for c, v in have.items() if c != "scheduler_config"})
    try:
        if info.kind == "diffusers":
            pipeline_class = _pipeline_class(info)
            kwargs["use_safetensors"] = None if allow_pickle else True
            variant = _weights_variant(info)
            if variant is not None:
                kwargs["variant"] = variant
            pipe = pipeline_class.from_pretrained(str(info.path), **kwargs, **_sd_extras(info))
        else:
            from diffusers import StableDiffusionPipeline

            if info.config is not None:
                kwargs["config"] = str(info.config)
            pipe = StableDiffusionPipeline.from_single_file(
                str(info.path), **kwargs, **_sd_extras(info)
            )
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(_load_failure(info, exc)) from exc
    return {
        "unet": pipe.unet,
        "vae": pipe.vae,
        "text_encoder": pipe.text_encoder,
        "tokenizer": pipe.tokenizer,
        "scheduler_config": dict(pipe.scheduler.config),
    }


def _pipeline_class(info: ModelInfo) -> Any:
    name = info.pipeline_class
    if name is not None and name not in SUPPORTED_PIPELINES:
        raise ModelLoadError(
            f"model {info.name!r} is a {name}; rxgen runs Stable Diffusion 1.x/2.x pipelines "
            f"and text-to-video pipelines ({', '.join(sorted(SUPPORTED_PIPELINES))})"
        )
    if name in VIDEO_PIPELINES:
        from diffusers import TextToVideoSDPipeline

        return TextToVideoSDPipeline
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline


def _sd_extras(info: ModelInfo) -> dict[str, Any]:
    if is_video_model(info):
        return {}
    # No safety checker: rxgen leaves content policy to the operator, and it costs a model.
    return {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}


def _dtype_kwarg() -> str:
    # diffusers renamed from_pretrained's torch_dtype to dtype (and warns about the old name);
    # _resolve_dtype arrived with the rename, so its presence says which name this version reads.
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


_DTYPE_KWARG: Final = _dtype_kwarg()


def _weights_variant(info: ModelInfo) -> str | None:
    """'fp16' when the UNet has only fp16-variant weights (hub downloads that skipped fp32)."""
    unet = [f for f in info.files if f.startswith("unet/") and ".safetensors" in f]
    if unet and all(".fp16." in f for f in unet):
        return "fp16"
    return None


def _load_failure(info: ModelInfo, exc: Exception) -> str:
    text = f"could not load model {info.name!r} from {info.path}: {type(exc).__name__}: {exc}"
    if info.kind != "diffusers" and info.config is None:
        text += (
            ". Single-file checkpoints need a diffusers configuration (tokenizer, scheduler, "
            "layer sizes): record one with `rxgen models add FILE --config DIR` (DIR: the "
            "diffusers directory it was made from), or connect to the internet once so diffusers "
            "can fetch Stable Diffusion's standard configuration"
        )
    return text
