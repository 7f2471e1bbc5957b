"""Prompt text -> CLIP conditioning, exactly as diffusers' StableDiffusionPipeline encodes it.

The pipeline tokenizes to the tokenizer's ``model_max_length`` (77 for SD1.x) with padding and
truncation, runs the text encoder and takes its last hidden state (or, with ``clip_skip``, an
earlier hidden state passed through the final layer norm). Doing the same here means a prompt
encoded by the CLIPTextEncode node and one encoded inside the pipeline are the same tensor, which
the engine-vs-bare benchmark and the equality tests rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Conditioning", "encode_prompt"]

# Tokenizers without a configured length report a huge sentinel (int(1e30)); refuse those.
_MAX_SANE_LENGTH = 4096


@dataclass(frozen=True, eq=False)
class Conditioning:
    """Text conditioning for one or more batch items.

    ``embeds`` is ``(batch, tokens, dim)``: the cross-attention input of the UNet. ``pooled`` is
    the text encoder's pooled output ``(batch, dim)`` when it has one (SD1.x UNets do not use it,
    SDXL-style models do). Equality is identity: tensors have no cheap, total equality.
    """

    embeds: torch.Tensor
    pooled: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.embeds.ndim != 3:
            raise ValueError(
                f"Conditioning.embeds must be (batch, tokens, dim), got shape "
                f"{tuple(self.embeds.shape)}; add a batch dimension with embeds.unsqueeze(0)"
            )
        if self.pooled is not None and self.pooled.shape[0] != self.embeds.shape[0]:
            raise ValueError(
                f"Conditioning.pooled has batch {self.pooled.shape[0]} but embeds has batch "
                f"{self.embeds.shape[0]}; both must describe the same items"
            )

    @property
    def batch_size(self) -> int:
        return int(self.embeds.shape[0])

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> Conditioning:
        """A copy on ``device`` in ``dtype`` (either may be None to keep it)."""
        pooled = None if self.pooled is None else self.pooled.to(device=device, dtype=dtype)
        return Conditioning(self.embeds.to(device=device, dtype=dtype), pooled)

    def expand_to(self, batch: int) -> Conditioning:
        """Repeat a single-item conditioning to ``batch`` items (as the pipeline repeats it)."""
        if self.batch_size == batch:
            return self
        if self.batch_size != 1:
            raise ValueError(
                f"cannot use a conditioning of batch {self.batch_size} for {batch} latents; "
                "give one conditioning per latent or a single one for all"
            )
        pooled = None if self.pooled is None else self.pooled.repeat(batch, 1)
        return Conditioning(self.embeds.repeat(batch, 1, 1), pooled)

    @staticmethod
    def concat(items: Sequence[Conditioning]) -> Conditioning:
        """Join conditionings along the batch (for coalescing jobs into one sampler call)."""
        if not items:
            raise ValueError("Conditioning.concat needs at least one conditioning")
        shapes = {tuple(c.embeds.shape[1:]) for c in items}
        if len(shapes) != 1:
            raise ValueError(
                f"cannot batch conditionings of different token/feature shapes {sorted(shapes)}; "
                "only prompts encoded by the same text encoder can share a batch"
            )
        pooled_list = [c.pooled for c in items]
        pooled: torch.Tensor | None = None
        if all(p is not None for p in pooled_list):
            pooled = torch.cat([p for p in pooled_list if p is not None])
        return Conditioning(torch.cat([c.embeds for c in items]), pooled)


def encode_prompt(
    tokenizer: Any,
    text_encoder: Any,
    text: str,
    device: torch.device | str,
    *,
    clip_skip: int | None = None,
) -> Conditioning:
    """Encode ``text`` with a CLIP tokenizer and text encoder, as StableDiffusionPipeline does.

    ``tokenizer`` is a transformers CLIP tokenizer and ``text_encoder`` a ``CLIPTextModel`` (typed
    loosely: transformers' classes are not precisely typed). ``clip_skip`` follows the pipeline's
    meaning: 1 uses the penultimate layer. Text past ``model_max_length`` tokens is truncated, as
    in the pipeline.
    """
    max_length = int(tokenizer.model_max_length)
    if max_length <= 0 or max_length > _MAX_SANE_LENGTH:
        raise ValueError(
            f"the tokenizer's model_max_length is {max_length}, not a usable CLIP context length; "
            "set model_max_length (77 for Stable Diffusion) in its tokenizer_config.json"
        )
    if clip_skip is not None and clip_skip < 0:
        raise ValueError(f"clip_skip must be >= 0 (1 = penultimate layer), got {clip_skip}")
    inputs = tokenizer(
        text,
        padding="max_length",
        max_length=max_length,
        truncation=True,
        return_tensors="pt",
    )
    input_ids = inputs.input_ids.to(device)
    attention_mask = None
    if getattr(text_encoder.config, "use_attention_mask", False):
        attention_mask = inputs.attention_mask.to(device)
    with torch.inference_mode():
        if clip_skip is None:
            output = text_encoder(input_ids, attention_mask=attention_mask)
            embeds = output[0]
        else:
            output = text_encoder(
                input_ids, attention_mask=attention_mask, output_hidden_states=True
            )
            hidden = output.hidden_states[-(clip_skip + 1)]
            embeds = _final_layer_norm(text_encoder)(hidden)
        pooled = getattr(output, "pooler_output", None)
    dtype = text_encoder.dtype
    embeds = embeds.to(dtype=dtype, device=device)
    if pooled is not None:
        pooled = pooled.to(dtype=dtype, device=device)
    return Conditioning(embeds, pooled)


def _final_layer_norm(text_encoder: Any) -> Any:
    # transformers 4 nests the CLIP text transformer under `.text_model`; transformers 5 puts its
    # layers on the model itself (diffusers 0.42's own clip_skip path still expects the former).
    inner = getattr(text_encoder, "text_model", text_encoder)
    norm = getattr(inner, "final_layer_norm", None)
    if norm is None:
        raise ValueError(
            "clip_skip needs the text encoder's final layer norm, but "
            f"{type(text_encoder).__name__} has no final_layer_norm; use clip_skip=None with it"
        )
    return norm
