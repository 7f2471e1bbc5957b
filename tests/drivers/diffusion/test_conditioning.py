"""Prompt encoding equals StableDiffusionPipeline.encode_prompt, on an offline tiny CLIP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from diffusers import StableDiffusionPipeline
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from drivers.diffusion.conditioning import Conditioning, encode_prompt

MERGES = [("c", "a"), ("ca", "t</w>"), ("d", "o"), ("do", "g</w>"), ("r", "e"), ("re", "d</w>")]


def _byte_chars() -> list[str]:
    """GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest above 255."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def _tiny_clip(folder: Path) -> tuple[CLIPTokenizer, CLIPTextModel]:
    """A CLIP tokenizer built offline (no hub) and a small random text encoder matching it."""
    chars = _byte_chars()
    tokens = [*chars, *(c + "</w>" for c in chars), *(a + b for a, b in MERGES)]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    merges = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES)
    (folder / "merges.txt").write_text(merges, encoding="utf-8")
    tokenizer = CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    )
    torch.manual_seed(0)
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=3,
        max_position_embeddings=77,
        projection_dim=32,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    return tokenizer, CLIPTextModel(config).eval()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[CLIPTokenizer, CLIPTextModel]:
    return _tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(autouse=True, scope="module")
def _pinned_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _pipeline(tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel) -> StableDiffusionPipeline:
    return StableDiffusionPipeline(
        vae=None,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=None,
        scheduler=None,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def test_equals_pipeline_encode_prompt(clip: tuple[CLIPTokenizer, CLIPTextModel]) -> None:
    tokenizer, text_encoder = clip
    pipe = _pipeline(tokenizer, text_encoder)
    expected_pos, expected_neg = pipe.encode_prompt(
        "a red cat", "cpu", 1, True, negative_prompt="dog"
    )
    positive = encode_prompt(tokenizer, text_encoder, "a red cat", "cpu")
    negative = encode_prompt(tokenizer, text_encoder, "dog", "cpu")
    assert positive.embeds.shape == (1, 77, 32)
    assert torch.equal(positive.embeds, expected_pos)
    assert torch.equal(negative.embeds, expected_neg)


def test_empty_prompt_equals_the_pipeline_default_negative(
    clip: tuple[CLIPTokenizer, CLIPTextModel],
) -> None:
    tokenizer, text_encoder = clip
    _, expected_neg = _pipeline(tokenizer, text_encoder).encode_prompt("cat", "cpu", 1, True)
    assert torch.equal(encode_prompt(tokenizer, text_encoder, "", "cpu").embeds, expected_neg)


def test_pooled_output_is_kept(clip: tuple[CLIPTokenizer, CLIPTextModel]) -> None:
    tokenizer, text_encoder = clip
    cond = encode_prompt(tokenizer, text_encoder, "cat", "cpu")
    assert cond.pooled is not None
    assert cond.pooled.shape == (1, 32)


def test_long_prompts_are_truncated_to_the_context(
    clip: tuple[CLIPTokenizer, CLIPTextModel],
) -> None:
    tokenizer, text_encoder = clip
    long = " ".join(["cat dog"] * 100)
    cond = encode_prompt(tokenizer, text_encoder, long, "cpu")
    assert cond.embeds.shape == (1, 77, 32)


def test_clip_skip_uses_an_earlier_layer_through_the_final_norm(
    clip: tuple[CLIPTokenizer, CLIPTextModel],
) -> None:
    tokenizer, text_encoder = clip
    ids = tokenizer(
        "red dog", padding="max_length", max_length=77, truncation=True, return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        hidden = text_encoder(ids, output_hidden_states=True).hidden_states[-2]
        expected = text_encoder.final_layer_norm(hidden)
    cond = encode_prompt(tokenizer, text_encoder, "red dog", "cpu", clip_skip=1)
    assert torch.equal(cond.embeds, expected)
    plain = encode_prompt(tokenizer, text_encoder, "red dog", "cpu")
    assert not torch.equal(cond.embeds, plain.embeds)


def test_unconfigured_tokenizer_length_is_refused(
    clip: tuple[CLIPTokenizer, CLIPTextModel],
) -> None:
    tokenizer, text_encoder = clip

    class Unbounded:
        model_max_length = int(1e30)

    with pytest.raises(ValueError, match="model_max_length"):
        encode_prompt(Unbounded(), text_encoder, "cat", "cpu")
    assert tokenizer.model_max_length == 77


def test_conditioning_to_expand_and_concat() -> None:
    a = Conditioning(torch.zeros(1, 77, 8), torch.zeros(1, 8))
    b = Conditioning(torch.ones(1, 77, 8), torch.ones(1, 8))
    assert a.to(dtype=torch.float64).embeds.dtype == torch.float64
    assert a.to(dtype=torch.float64).pooled is not None
    assert a.expand_to(3).embeds.shape == (3, 77, 8)
    joined = Conditioning.concat([a, b])
    assert joined.batch_size == 2
    assert joined.pooled is not None and joined.pooled.shape == (2, 8)
    with pytest.raises(ValueError, match="cannot use a conditioning of batch 2 for 3 latents"):
        joined.expand_to(3)
    with pytest.raises(ValueError, match="different token/feature shapes"):
        Conditioning.concat([a, Conditioning(torch.zeros(1, 77, 16))])
    with pytest.raises(ValueError, match=r"\(batch, tokens, dim\)"):
        Conditioning(torch.zeros(77, 8))
