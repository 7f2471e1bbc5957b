"""Tiny random-weight text-to-video models, the ModelScope architecture at toy size.

The same recipe as ModelScope's text-to-video-ms-1.7b (a 3-D UNet with temporal attention, SD's
8x VAE and a CLIP text encoder, the DDIM scheduler) shrunk until a 16-frame 64 px clip takes a
fraction of a second on a CPU. Saved as a normal diffusers directory that
``TextToVideoSDPipeline.from_pretrained`` loads; labelled as random weights.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from drivers.diffusion.tiny import (
    MARKER_FILE,
    SD_SCHEDULER,
    TINY_LABEL,
    TINY_TEXT,
    TINY_VAE,
    TINY_WARNING,
    staging_dir,
)
from drivers.diffusion.tiny_tokenizer import build_tokenizer, write_tokenizer_files

RECIPE: Final = "t2v-1"

UNET_3D: Final[Mapping[str, Any]] = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "down_block_types": ("CrossAttnDownBlock3D", "DownBlock3D"),
    "up_block_types": ("UpBlock3D", "CrossAttnUpBlock3D"),
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}

_README: Final = """\
# {name}: tiny text-to-video, RANDOM WEIGHTS

**{warning}.** Made by `rxgen models create-tiny --kind t2v` (seed {seed}): ModelScope's
text-to-video architecture (3-D UNet, 8x VAE, CLIP text encoder) at a tiny size with random
weights. Every clip it makes is noise; it exists so tests and first runs exercise the real code.

    TextToVideoSDPipeline.from_pretrained("{name}", local_files_only=True)
"""


def create_tiny_t2v(path: Path, *, seed: int = 0) -> Path:
    """Build and save a tiny text-to-video pipeline at ``path`` (which must not exist, or be an
    empty directory); the directory appears complete or not at all."""
    path = Path(path)
    if path.exists() and not (path.is_dir() and not any(path.iterdir())):
        raise FileExistsError(
            f"cannot create a tiny model at {path}: it already exists; "
            "choose another name or remove it first"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with staging_dir(path) as staging:
        _build(staging, seed).save_pretrained(str(staging), safe_serialization=True)
        write_tokenizer_files(staging / "tokenizer")
        _write_labels(staging, path.name, seed)
        if path.exists():
            path.rmdir()
        os.replace(staging, path)
    return path


def ensure_tiny_t2v(path: Path, *, seed: int = 0) -> Path:
    """``path`` holding the tiny text-to-video model for ``seed``, built only when missing."""
    marker = Path(path) / MARKER_FILE
    if marker.is_file():
        meta = json.loads(marker.read_text(encoding="utf-8"))
        if meta.get("seed") == seed and meta.get("recipe") == RECIPE:
            return Path(path)
        raise FileExistsError(f"{path} holds a different tiny model; remove it")
    return create_tiny_t2v(Path(path), seed=seed)


def _build(workdir: Path, seed: int) -> Any:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_tokenizer(workdir / "tokenizer-src")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet3DConditionModel(**UNET_3D)  # type: ignore[no-untyped-call]
        vae = AutoencoderKL(**TINY_VAE)  # type: ignore[no-untyped-call]
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                **TINY_TEXT,
                vocab_size=len(tokenizer),
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
    shutil.rmtree(workdir / "tokenizer-src")
    # ModelScope's scheduler: DDIM on SD's noise schedule, clip_sample off.
    scheduler = DDIMScheduler(  # type: ignore[no-untyped-call]
        **{k: v for k, v in SD_SCHEDULER.items() if k != "skip_prk_steps"}, clip_sample=False
    )
    return TextToVideoSDPipeline(  # type: ignore[no-untyped-call]
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    )


def _write_labels(folder: Path, name: str, seed: int) -> None:
    meta = {
        "created_by": "rxgen models create-tiny --kind t2v",
        "kind": "t2v",
        "recipe": RECIPE,
        "seed": seed,
        "labels": [TINY_LABEL, "tiny", "for tests", "text-to-video"],
        "warning": TINY_WARNING,
        "architecture": {"unet": UNET_3D, "vae": TINY_VAE, "text_encoder": TINY_TEXT},
    }
    (folder / MARKER_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    readme = _README.format(name=name, seed=seed, warning=TINY_WARNING.capitalize())
    (folder / "README.md").write_text(readme, encoding="utf-8")
