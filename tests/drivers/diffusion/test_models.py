"""The models directory: listing, info, add/remove, refusals, traversal, the hub offline."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from drivers.diffusion.hub import hub_offline, parse_hub_source, pick_hub_files
from drivers.diffusion.models import (
    CHECKPOINTS_DIR,
    HubUnavailable,
    ModelStore,
    ModelStoreError,
    RefusedModel,
    UnknownModel,
    default_models_dir,
)
from drivers.diffusion.tiny import TINY_LABEL, TINY_WARNING


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


@pytest.fixture
def filled(store: ModelStore, tiny_sd_dir: Path, tiny_sd_file: Path) -> ModelStore:
    """tiny (a diffusers dir), sd/tiny.safetensors (a checkpoint), old.ckpt (a pickle)."""
    store.add(str(tiny_sd_dir), "tiny")
    store.add(str(tiny_sd_file), "sd/tiny.safetensors", config="tiny")
    old = store.root / CHECKPOINTS_DIR / "old.ckpt"
    old.write_bytes(b"\x80\x04pickle pretending to be a checkpoint")
    return store


def test_missing_or_empty_directory_lists_nothing(store: ModelStore) -> None:
    assert store.list() == []
    store.root.mkdir()
    assert store.list() == [] and store.choices() == []


def test_lists_directories_checkpoints_and_refused_pickles(filled: ModelStore) -> None:
    infos = {info.name: info for info in filled.list()}
    assert list(infos) == ["old.ckpt", "sd/tiny.safetensors", "tiny"]
    tiny, single, old = infos["tiny"], infos["sd/tiny.safetensors"], infos["old.ckpt"]
    assert (tiny.kind, single.kind, old.kind) == ("diffusers", "safetensors", "pickle")
    assert tiny.pipeline_class == "StableDiffusionPipeline"
    assert set(tiny.components) == {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}
    assert set(single.components) == {"unet", "vae", "text_encoder"}
    assert TINY_LABEL in tiny.labels and TINY_LABEL in single.labels
    assert tiny.warning == single.warning == TINY_WARNING
    assert tiny.loadable and single.loadable
    assert old.refused is not None and "pickle" in old.refused
    assert tiny.size == sum((tiny.path / f).stat().st_size for f in tiny.files)
    assert "unet/diffusion_pytorch_model.safetensors" in tiny.files
    # ComfyUI's ckpt_name: relative paths, refused models left out.
    assert filled.choices() == ["sd/tiny.safetensors", "tiny"]


def test_allow_pickle_lists_pickles_as_loadable(filled: ModelStore) -> None:
    relaxed = ModelStore(filled.root, allow_pickle=True)
    assert relaxed.resolve("old.ckpt").kind == "pickle"
    assert "old.ckpt" in relaxed.choices()


def test_resolve_refuses_pickles_with_the_reason(filled: ModelStore) -> None:
    with pytest.raises(RefusedModel, match=r"old\.ckpt.*runs any code"):
        filled.resolve("old.ckpt")


def test_diffusers_directory_with_only_pickle_weights_is_refused(
    store: ModelStore, tiny_sd_dir: Path
) -> None:
    info = store.add(str(tiny_sd_dir), "binary")
    unet = info.path / "unet"
    (unet / "diffusion_pytorch_model.safetensors").rename(unet / "diffusion_pytorch_model.bin")
    with pytest.raises(RefusedModel, match=r"component 'unet' has only pickle weights"):
        store.resolve("binary")


def test_info_hashes_lazily_and_caches_in_a_sidecar(filled: ModelStore) -> None:
    listed = {i.name: i for i in filled.list()}["sd/tiny.safetensors"]
    assert listed.sha256 is None  # listing never hashes
    info = filled.info("sd/tiny.safetensors")
    assert info.sha256 is not None and len(info.sha256) == 64
    sidecar = info.path.with_name(info.path.name + ".rxgen.json")
    assert json.loads(sidecar.read_text())["sha256"]["value"] == info.sha256
    assert {i.name: i for i in filled.list()}["sd/tiny.safetensors"].sha256 == info.sha256
    assert info.config == filled.root / "tiny"  # recorded as a store-relative path


def test_hash_is_recomputed_when_the_file_changes(filled: ModelStore) -> None:
    info = filled.info("sd/tiny.safetensors")
    with info.path.open("ab") as handle:
        handle.write(b"\0")
    assert filled.info("sd/tiny.safetensors").sha256 != info.sha256


def test_content_id_of_a_directory_follows_its_files(filled: ModelStore) -> None:
    before = filled.content_id(filled.resolve("tiny"))
    assert before == filled.content_id(filled.resolve("tiny"))
    weights = filled.root / "tiny/unet/diffusion_pytorch_model.safetensors"
    os.utime(weights, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert filled.content_id(filled.resolve("tiny")) != before


def test_unknown_name_lists_the_available_ones(filled: ModelStore) -> None:
    with pytest.raises(UnknownModel) as caught:
        filled.resolve("nope")
    message = str(caught.value)
    assert "'nope'" in message and str(filled.root) in message
    assert "old.ckpt, sd/tiny.safetensors, tiny" in message


@pytest.mark.parametrize(
    "name",
    ["../models/tiny", "/etc/passwd", "tiny/../tiny", "sd/../../x", "./tiny", "tiny/unet", ""],
)
def test_names_are_looked_up_never_joined(filled: ModelStore, name: str) -> None:
    with pytest.raises(UnknownModel):
        filled.resolve(name)
    with pytest.raises(UnknownModel):
        filled.remove(name)
    assert (filled.root / "tiny" / "model_index.json").is_file()


def test_windows_style_names_find_the_same_model(filled: ModelStore) -> None:
    assert filled.resolve("sd\\tiny.safetensors").name == "sd/tiny.safetensors"


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../b", ".hidden", "a//b", "x\0y"])
def test_add_refuses_names_that_escape_or_hide(
    store: ModelStore, tiny_sd_dir: Path, name: str
) -> None:
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.add(str(tiny_sd_dir), name)
    assert not store.root.exists() or store.list() == []


def test_add_copies_a_directory_and_a_file(
    store: ModelStore, tiny_sd_dir: Path, tiny_sd_file: Path
) -> None:
    directory = store.add(str(tiny_sd_dir))
    assert directory.name == tiny_sd_dir.name and directory.linked_to is None
    assert not directory.path.is_symlink()
    single = store.add(str(tiny_sd_file), "renamed")  # the extension is kept
    assert single.name == "renamed.safetensors"
    assert single.path == store.root / CHECKPOINTS_DIR / "renamed.safetensors"
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".")] == []


def test_add_link_and_remove_keeps_the_target(store: ModelStore, tiny_sd_dir: Path) -> None:
    info = store.add(str(tiny_sd_dir), "linked", link=True)
    assert info.path.is_symlink() and info.linked_to == tiny_sd_dir
    assert store.resolve("linked").loadable
    removed = store.remove("linked")
    assert removed.name == "linked"
    assert not info.path.exists() and (tiny_sd_dir / "model_index.json").is_file()


def test_remove_deletes_a_directory_and_a_file_with_its_sidecar(filled: ModelStore) -> None:
    info = filled.info("sd/tiny.safetensors")  # writes the sidecar
    sidecar = info.path.with_name(info.path.name + ".rxgen.json")
    assert sidecar.is_file()
    filled.remove("sd/tiny.safetensors")
    assert not info.path.exists() and not sidecar.exists()
    filled.remove("tiny")
    assert filled.names() == ["old.ckpt"]


def test_add_refuses_what_is_not_a_model(store: ModelStore, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(ModelStoreError, match=r"without model_index\.json"):
        store.add(str(tmp_path / "plain"))
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelStoreError, match="not a checkpoint format"):
        store.add(str(tmp_path / "notes.txt"))
    with pytest.raises(ModelStoreError, match="no such file or directory, and not a Hugging"):
        store.add(str(tmp_path / "missing" / "x"))


def test_add_refuses_to_overwrite(filled: ModelStore, tiny_sd_dir: Path) -> None:
    with pytest.raises(ModelStoreError, match="already exists"):
        filled.add(str(tiny_sd_dir), "tiny")
    with pytest.raises(ModelStoreError, match="checkpoints/ holds single-file"):
        filled.add(str(tiny_sd_dir), "checkpoints/sneaky")


def test_config_must_be_a_diffusers_directory(filled: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="neither a diffusers model in this store"):
        filled.set_config("sd/tiny.safetensors", tmp_path)
    with pytest.raises(ModelStoreError, match="carries its own config"):
        filled.set_config("tiny", "tiny")


def test_pickle_files_can_be_added_but_stay_refused(store: ModelStore, tmp_path: Path) -> None:
    source = tmp_path / "model.ckpt"
    source.write_bytes(b"not really")
    info = store.add(str(source))
    assert info.kind == "pickle" and info.refused is not None
    assert store.choices() == []


def test_corrupt_safetensors_is_refused_with_advice(store: ModelStore, tmp_path: Path) -> None:
    source = tmp_path / "broken.safetensors"
    source.write_bytes(b"\xff" * 64)
    info = store.add(str(source))
    assert info.refused is not None and "not a valid safetensors file" in info.refused


def test_symlink_loops_do_not_hang_the_scan(filled: ModelStore) -> None:
    (filled.root / "loop").symlink_to(filled.root, target_is_directory=True)
    assert "tiny" in filled.names()


def test_hidden_partial_copies_are_not_listed(filled: ModelStore, tiny_sd_dir: Path) -> None:
    shutil.copytree(tiny_sd_dir, filled.root / ".half.partial-1234")
    (filled.root / CHECKPOINTS_DIR / ".x.safetensors.partial-1").write_bytes(b"")
    assert filled.names() == ["old.ckpt", "sd/tiny.safetensors", "tiny"]


# --- the hub ----------------------------------------------------------------------------------


def test_hub_add_fails_fast_and_clearly_offline(store: ModelStore) -> None:
    assert hub_offline()
    started = time.perf_counter()
    with pytest.raises(HubUnavailable, match=r"'org/model'.*HF_HUB_OFFLINE.*rxgen models add"):
        store.add("org/model")
    with pytest.raises(HubUnavailable, match="HF_HUB_OFFLINE"):
        store.add("org/model/weights.safetensors")
    assert time.perf_counter() - started < 1.0
    assert not store.root.exists() or store.list() == []


def test_hub_pickle_files_are_refused_before_any_download(store: ModelStore) -> None:
    with pytest.raises(RefusedModel, match="pickle"):
        store.add("org/model/v1-5.ckpt")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("org/name", ("org/name", None, None)),
        ("org/name@v2", ("org/name", None, "v2")),
        ("org/name/sub/file.safetensors", ("org/name", "sub/file.safetensors", None)),
        ("runwayml/stable-diffusion-v1-5", ("runwayml/stable-diffusion-v1-5", None, None)),
        ("justone", None),
        ("org/../etc", None),
        ("/abs/path", None),
        ("org//x", None),
    ],
)
def test_parse_hub_source(source: str, expected: tuple[str, str | None, str | None] | None) -> None:
    parsed = parse_hub_source(source)
    got = None if parsed is None else (parsed.repo_id, parsed.filename, parsed.revision)
    assert got == expected


def test_pick_hub_files_takes_one_safe_set_of_weights() -> None:
    files = [
        "model_index.json",
        "v1-5-pruned.ckpt",
        "v1-5-pruned-emaonly.safetensors",
        "feature_extractor/preprocessor_config.json",
        "safety_checker/config.json",
        "safety_checker/model.safetensors",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "text_encoder/model.fp16.safetensors",
        "text_encoder/pytorch_model.bin",
        "tokenizer/merges.txt",
        "tokenizer/vocab.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "unet/diffusion_pytorch_model.non_ema.safetensors",
        "unet/diffusion_pytorch_model.bin",
        "vae/config.json",
        "vae/diffusion_pytorch_model.fp16.safetensors",
    ]
    picked = pick_hub_files(files)
    assert "text_encoder/model.safetensors" in picked
    assert "text_encoder/model.fp16.safetensors" not in picked  # plain weights exist
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in picked  # the only safe set
    assert "vae/diffusion_pytorch_model.fp16.safetensors" in picked
    assert not [f for f in picked if f.endswith((".bin", ".ckpt")) or "non_ema" in f]
    assert "safety_checker/model.safetensors" not in picked
    assert "v1-5-pruned-emaonly.safetensors" not in picked
    assert "tokenizer/vocab.json" in picked and "model_index.json" in picked


def test_default_models_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_models_dir(None, env={}) == tmp_path / "models"
    env = {"RXGEN_MODELS_DIR": str(tmp_path / "env")}
    assert default_models_dir(None, env=env) == tmp_path / "env"
    assert default_models_dir(str(tmp_path / "cli"), env=env) == tmp_path / "cli"
    monkeypatch.setenv("RXGEN_MODELS_DIR", "relative")
    assert default_models_dir() == tmp_path / "relative"


def test_modelscope_ids_are_parsed_and_need_the_optional_package(tmp_path: Path) -> None:
    import importlib.util

    from drivers.diffusion.modelscope_hub import parse_modelscope_source
    from drivers.diffusion.store_errors import HubUnavailable, ModelStoreError

    assert parse_modelscope_source("modelscope:damo/t2v@v1") == ("damo/t2v", "v1")
    assert parse_modelscope_source("damo/t2v") is None
    with pytest.raises(ModelStoreError, match="not a ModelScope model id"):
        parse_modelscope_source("modelscope:../x")
    if importlib.util.find_spec("modelscope") is None:
        with pytest.raises(HubUnavailable, match=r"pip install 'rxgen\[modelscope\]'"):
            ModelStore(tmp_path).add("modelscope:damo/text-to-video-ms-1.7b")
