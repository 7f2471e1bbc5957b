"""Preview images: linear latent projection, TAESD decoding, encoding, step selection."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoencoderTiny
from PIL import Image

from drivers.diffusion.previews import (
    SD15_LATENT_RGB_FACTORS,
    PreviewRenderer,
    encode_preview,
    latent_to_rgb,
)


def _tiny_taesd() -> AutoencoderTiny:
    torch.manual_seed(0)
    return AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
        latent_channels=4,
    ).eval()


def test_latent_to_rgb_shape_and_dtype() -> None:
    rgb = latent_to_rgb(torch.randn(2, 4, 8, 12))
    assert rgb.shape == (8, 12, 3)
    assert rgb.dtype == np.uint8


def test_latent_to_rgb_applies_the_sd15_factors() -> None:
    latents = torch.zeros(1, 4, 2, 2)
    latents[0, :, 0, 0] = torch.tensor([0.5, -0.25, 1.0, 0.3])
    rgb = latent_to_rgb(latents)
    factors = np.array(SD15_LATENT_RGB_FACTORS)
    projected = np.array([0.5, -0.25, 1.0, 0.3]) @ factors
    expected = np.round((np.clip(projected, -1, 1) + 1) * 127.5)
    np.testing.assert_array_equal(rgb[0, 0], expected.astype(np.uint8))
    # Zero latents are mid grey (0 maps to 127.5, rounded half to even).
    np.testing.assert_array_equal(rgb[1, 1], [128, 128, 128])


def test_latent_to_rgb_clamps_and_picks_the_item() -> None:
    latents = torch.zeros(2, 4, 1, 1)
    latents[1] = 100.0
    assert latent_to_rgb(latents, index=0)[0, 0].tolist() == [128, 128, 128]
    assert set(latent_to_rgb(latents, index=1)[0, 0].tolist()) <= {0, 255}


def test_latent_to_rgb_rejects_wrong_channel_counts() -> None:
    with pytest.raises(ValueError, match="latents have 16 channels but the projection has 4"):
        latent_to_rgb(torch.zeros(1, 16, 4, 4))


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_encode_preview_decodes_with_pillow(fmt: str) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, size=(64, 96, 3), dtype=np.uint8)
    data = encode_preview(rgb, format=fmt, max_size=48)  # type: ignore[arg-type]
    image = Image.open(io.BytesIO(data))
    assert image.format == fmt
    assert image.size == (48, 32)  # shrunk to fit, aspect kept
    assert image.mode == "RGB"


def test_encode_preview_keeps_small_images() -> None:
    data = encode_preview(np.zeros((8, 8, 3), dtype=np.uint8), max_size=256)
    assert Image.open(io.BytesIO(data)).size == (8, 8)


def test_encode_preview_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError, match="preview format 'GIF'"):
        encode_preview(np.zeros((8, 8, 3), dtype=np.uint8), format="GIF")  # type: ignore[arg-type]


def test_renderer_every_n_and_always_the_last_step() -> None:
    renderer = PreviewRenderer(every_n=3)
    wanted = [step for step in range(1, 11) if renderer.wants(step, 10)]
    assert wanted == [3, 6, 9, 10]
    assert [s for s in range(1, 5) if PreviewRenderer().wants(s, 4)] == [1, 2, 3, 4]
    latents = torch.randn(1, 4, 8, 8)
    assert renderer.render(1, 10, latents) is None
    data = renderer.render(3, 10, latents)
    assert data is not None
    assert Image.open(io.BytesIO(data)).size == (8, 8)


def test_renderer_rejects_bad_every_n() -> None:
    with pytest.raises(ValueError, match="every_n must be at least 1"):
        PreviewRenderer(every_n=0)


def test_renderer_uses_taesd_when_given() -> None:
    renderer = PreviewRenderer(taesd=_tiny_taesd(), format="WEBP", max_size=512)
    rgb = renderer.to_rgb(torch.randn(2, 4, 8, 6), index=1)
    assert rgb.shape == (64, 48, 3)  # TAESD decodes to full image resolution (8x)
    assert rgb.dtype == np.uint8
    data = renderer.render(1, 1, torch.randn(1, 4, 8, 8))
    assert data is not None
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("WEBP", (64, 64))


def test_an_installed_taesd_is_found_and_used(tmp_path: Path) -> None:
    from drivers.diffusion.previews import find_taesd

    assert find_taesd(tmp_path) is None
    _tiny_taesd().save_pretrained(str(tmp_path / "taesd"))
    decoder = find_taesd(tmp_path)
    assert decoder is not None
    renderer = PreviewRenderer(taesd=decoder, max_size=64)
    rgb = renderer.to_rgb(torch.randn(1, 4, 8, 8))
    assert rgb.shape == (64, 64, 3)  # full resolution, unlike the 8x8 linear preview
