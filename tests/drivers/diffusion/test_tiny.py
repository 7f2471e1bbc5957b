"""The tiny random-weight SD model: layout, tokenizer, generation, determinism, single file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from safetensors import safe_open
from transformers import CLIPTokenizer

from drivers.diffusion.tiny import (
    MARKER_FILE,
    TINY_LABEL,
    TINY_WARNING,
    create_tiny_sd,
    ensure_tiny_sd,
    save_single_file,
    to_original_layout,
)
from tests.drivers.diffusion.conftest import config_only_copy

WEIGHT_FILES = (
    "unet/diffusion_pytorch_model.safetensors",
    "vae/diffusion_pytorch_model.safetensors",
    "text_encoder/model.safetensors",
)


@pytest.fixture
def two_threads() -> Iterator[None]:
    # torch CPU results depend on the thread count (FACTS.md): pin it where bytes are compared.
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pipe(tiny_sd_dir: Path) -> Any:
    pipeline = StableDiffusionPipeline.from_pretrained(str(tiny_sd_dir), local_files_only=True)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def generate(pipe: Any, seed: int, size: int = 64, steps: int = 3) -> np.ndarray:
    result = pipe(
        "a photo of a cat",
        num_inference_steps=steps,
        height=size,
        width=size,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
    )
    images: np.ndarray = result.images
    return (images * 255).round().astype(np.uint8)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_is_a_normal_diffusers_directory_labelled_random(tiny_sd_dir: Path) -> None:
    index = json.loads((tiny_sd_dir / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert index["safety_checker"] == [None, None]
    assert index["requires_safety_checker"] is False
    for path in (*WEIGHT_FILES, "tokenizer/vocab.json", "tokenizer/merges.txt"):
        assert (tiny_sd_dir / path).is_file(), path
    assert (tiny_sd_dir / "tokenizer/merges.txt").read_text().startswith("#version: 0.2\n")
    scheduler = json.loads((tiny_sd_dir / "scheduler/scheduler_config.json").read_text())
    assert scheduler["_class_name"] == "PNDMScheduler"
    assert (scheduler["beta_start"], scheduler["beta_end"]) == (0.00085, 0.012)
    assert scheduler["beta_schedule"] == "scaled_linear"
    assert scheduler["num_train_timesteps"] == 1000
    meta = json.loads((tiny_sd_dir / MARKER_FILE).read_text())
    assert TINY_LABEL in meta["labels"] and meta["warning"] == TINY_WARNING
    assert "RANDOM WEIGHTS" in (tiny_sd_dir / "README.md").read_text()


def test_tokenizer_is_clip_shaped_and_matches_the_text_encoder(tiny_sd_dir: Path) -> None:
    tokenizer = CLIPTokenizer.from_pretrained(str(tiny_sd_dir / "tokenizer"), local_files_only=True)
    vocab = json.loads((tiny_sd_dir / "tokenizer/vocab.json").read_text())
    by_id = {v: k for k, v in vocab.items()}
    assert by_id[0] == "!" and by_id[256] == "!</w>"  # GPT-2 byte alphabet, then with </w>
    assert list(vocab)[-2:] == ["<|startoftext|>", "<|endoftext|>"]
    assert tokenizer.model_max_length == 77
    words = ["a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>"]
    assert tokenizer.tokenize("a photo of a cat") == words
    ids = tokenizer("zebra!", padding="max_length", max_length=77).input_ids
    assert len(ids) == 77 and ids[0] == tokenizer.bos_token_id  # unknown words: byte pieces
    config = json.loads((tiny_sd_dir / "text_encoder/config.json").read_text())
    assert config["max_position_embeddings"] == 77
    assert config["vocab_size"] == len(vocab)
    assert config["bos_token_id"] == tokenizer.bos_token_id == vocab["<|startoftext|>"]
    assert config["eos_token_id"] == tokenizer.eos_token_id == vocab["<|endoftext|>"]
    assert config["pad_token_id"] == tokenizer.pad_token_id


def test_tokenizer_loads_from_vocab_and_merges_alone(tiny_sd_dir: Path, tmp_path: Path) -> None:
    # What an older transformers, which does not read tokenizer.json, gets to work with.
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_sd_dir / "tokenizer" / name).read_bytes())
    tokenizer = CLIPTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    reference = CLIPTokenizer.from_pretrained(str(tiny_sd_dir / "tokenizer"), local_files_only=True)
    text = "an astronaut riding a horse, 4k"
    assert tokenizer(text).input_ids == reference(text).input_ids
    assert len(set(reference(text).input_ids)) > 5


def test_has_sd_latent_proportions(pipe: Any) -> None:
    assert pipe.vae_scale_factor == 8
    assert pipe.unet.config.sample_size * pipe.vae_scale_factor == 256
    assert pipe.unet.config.in_channels == pipe.vae.config.latent_channels == 4
    assert pipe.unet.config.cross_attention_dim == pipe.text_encoder.config.hidden_size


def test_generates_deterministically_offline(pipe: Any, two_threads: None) -> None:
    first = generate(pipe, seed=7)
    assert first.shape == (1, 64, 64, 3)
    assert first.tobytes() == generate(pipe, seed=7).tobytes()
    assert first.tobytes() != generate(pipe, seed=8).tobytes()


def test_same_seed_same_bytes_other_seed_other_weights(tmp_path: Path, tiny_sd_dir: Path) -> None:
    again = create_tiny_sd(tmp_path / "again", seed=0)
    other = create_tiny_sd(tmp_path / "other", seed=1)
    for name in WEIGHT_FILES:
        assert sha(again / name) == sha(tiny_sd_dir / name), name
        assert sha(other / name) != sha(tiny_sd_dir / name), name


def test_create_leaves_global_rng_alone(tmp_path: Path) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    create_tiny_sd(tmp_path / "m", seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(FileExistsError, match="already exists"):
        create_tiny_sd(tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no partial directory left


def test_ensure_reuses_and_refuses_a_different_seed(tiny_sd_dir: Path) -> None:
    assert ensure_tiny_sd(tiny_sd_dir, seed=0) == tiny_sd_dir
    with pytest.raises(FileExistsError, match="different tiny model"):
        ensure_tiny_sd(tiny_sd_dir, seed=1)


# --- single-file checkpoints ----------------------------------------------------------------


def test_single_file_has_the_original_layout(tiny_sd_file: Path) -> None:
    with safe_open(str(tiny_sd_file), "pt") as handle:
        keys = set(handle.keys())
        metadata = handle.metadata()
    assert {k.split(".")[0] for k in keys} == {"model", "first_stage_model", "cond_stage_model"}
    assert "model.diffusion_model.input_blocks.0.0.weight" in keys
    assert "first_stage_model.decoder.mid.attn_1.q.weight" in keys
    assert "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight" in keys
    assert json.loads(metadata["rxgen.labels"])[0] == TINY_LABEL


def test_single_file_is_the_exact_inverse_of_diffusers_converters(
    tiny_sd_file: Path, pipe: Any
) -> None:
    from diffusers.loaders.single_file_utils import (
        convert_ldm_clip_checkpoint,
        convert_ldm_unet_checkpoint,
        convert_ldm_vae_checkpoint,
    )
    from safetensors.torch import load_file

    checkpoint = load_file(str(tiny_sd_file))
    back = {
        "unet": convert_ldm_unet_checkpoint(checkpoint, dict(pipe.unet.config)),
        "vae": convert_ldm_vae_checkpoint(checkpoint, dict(pipe.vae.config)),
        "text_encoder": {
            k.removeprefix("text_model."): v
            for k, v in convert_ldm_clip_checkpoint(checkpoint).items()
        },
    }
    for component, state in back.items():
        original = getattr(pipe, component).state_dict()
        original = {k.removeprefix("text_model."): v for k, v in original.items()}
        original.pop("embeddings.position_ids", None)
        assert set(state) == set(original), component
        for key, tensor in original.items():
            assert torch.equal(state[key], tensor), f"{component}: {key}"


def test_single_file_loads_offline_and_makes_the_same_image(
    tiny_sd_file: Path, tiny_sd_dir: Path, pipe: Any, tmp_path: Path, two_threads: None
) -> None:
    # The config directory has no weights: everything must come from the single file.
    config = config_only_copy(tiny_sd_dir, tmp_path / "config")
    loaded = StableDiffusionPipeline.from_single_file(
        str(tiny_sd_file), config=str(config), local_files_only=True
    )
    loaded.set_progress_bar_config(disable=True)
    assert generate(loaded, seed=3).tobytes() == generate(pipe, seed=3).tobytes()


def test_original_layout_of_an_sd15_sized_model_has_the_published_key_names() -> None:
    # Built on the meta device: SD1.5's real shapes, no memory, no time.
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import (
        convert_ldm_unet_checkpoint,
        convert_ldm_vae_checkpoint,
    )

    with torch.device("meta"):
        unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
        vae = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=2,
            sample_size=512,
        )
    out = to_original_layout(unet.state_dict(), unet.config, vae.state_dict(), vae.config, {})
    # The tensor counts and names of runwayml's v1-5-pruned-emaonly checkpoint.
    assert sum(k.startswith("model.diffusion_model.") for k in out) == 686
    assert sum(k.startswith("first_stage_model.") for k in out) == 248
    for key, shape in {
        "model.diffusion_model.output_blocks.2.1.conv.weight": (1280, 1280, 3, 3),
        "model.diffusion_model.output_blocks.5.2.conv.weight": (1280, 1280, 3, 3),
        "model.diffusion_model.output_blocks.11.0.skip_connection.weight": (320, 640, 1, 1),
        "model.diffusion_model.input_blocks.3.0.op.weight": (320, 320, 3, 3),
        "model.diffusion_model.middle_block.1.proj_in.weight": (1280, 1280, 1, 1),
        "first_stage_model.decoder.up.3.upsample.conv.weight": (512, 512, 3, 3),
        "first_stage_model.decoder.mid.attn_1.q.weight": (512, 512, 1, 1),
        "first_stage_model.encoder.down.1.block.0.nin_shortcut.weight": (256, 128, 1, 1),
    }.items():
        assert tuple(out[key].shape) == shape, key
    assert set(convert_ldm_unet_checkpoint(out, dict(unet.config))) == set(unet.state_dict())
    assert set(convert_ldm_vae_checkpoint(out, dict(vae.config))) == set(vae.state_dict())


def test_unsupported_architectures_are_refused_not_mangled(tiny_sd_dir: Path) -> None:
    unet_config = json.loads((tiny_sd_dir / "unet/config.json").read_text())
    vae_config = json.loads((tiny_sd_dir / "vae/config.json").read_text())
    for change in ({"use_linear_projection": True}, {"addition_embed_type": "text_time"}):
        with pytest.raises(ValueError, match="not supported"):
            to_original_layout({}, {**unet_config, **change}, {}, vae_config, {})


def test_save_single_file_writes_atomically_with_normal_permissions(
    tiny_sd_dir: Path, tmp_path: Path
) -> None:
    out = save_single_file(tiny_sd_dir, tmp_path / "ckpt" / "m.safetensors")
    assert out.stat().st_mode & 0o044  # readable by others as the umask allows, not 0600
    assert [p.name for p in out.parent.iterdir()] == ["m.safetensors"]
