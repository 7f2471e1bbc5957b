"""`rxgen models list|info|add|remove|create-tiny`."""

from __future__ import annotations

import argparse
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub reads it at import

import pytest

from drivers.diffusion.tiny import ensure_tiny_sd
from webapp import models_cli


@pytest.fixture(scope="module", autouse=True)
def offline_hub() -> Iterator[None]:
    import huggingface_hub.constants as hub_constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
        yield


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The same path as tests/drivers/diffusion's fixture: built once per session.
    return ensure_tiny_sd(tmp_path_factory.getbasetemp() / "rxgen-tiny-sd")


def rxgen(*argv: str) -> tuple[int, str, str]:
    """Parse like the `rxgen` command would and run; returns (status, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="rxgen")
    commands = parser.add_subparsers(dest="command", required=True)
    models_cli.add_parser(commands)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    assert args.handler is models_cli.run  # what cli.main's generic dispatch calls
    status = models_cli.run(args, out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_empty_list_says_how_to_start(models: Path) -> None:
    status, out, _ = rxgen("models", "--models-dir", str(models), "list")
    assert status == 0
    assert "no models in" in out and "rxgen models create-tiny" in out


def test_create_tiny_prints_path_and_warning_then_lists(models: Path) -> None:
    status, out, _ = rxgen("models", "--models-dir", str(models), "create-tiny", "tiny")
    assert status == 0
    assert f"created tiny at {models / 'tiny'}" in out
    assert "WARNING: random weights, for tests; produces noise" in out
    assert (models / "tiny" / "model_index.json").is_file()
    # --models-dir also works after the verb.
    status, out, _ = rxgen("models", "list", "--models-dir", str(models))
    lines = out.splitlines()
    assert lines[1].split() == ["NAME", "KIND", "SIZE", "STATUS"]
    assert lines[2].startswith("tiny ") and "diffusers" in lines[2]
    assert "random weights" in lines[2]


def test_create_tiny_single_file_records_its_config(models: Path) -> None:
    status, out, _ = rxgen(
        "models", "--models-dir", str(models), "create-tiny", "t", "--single-file", "--seed", "2"
    )
    assert status == 0 and "t.safetensors" in out
    status, out, _ = rxgen("models", "--models-dir", str(models), "info", "t.safetensors", "--json")
    info = json.loads(out)
    assert info["kind"] == "safetensors" and info["config"] == str(models / "t")
    assert len(info["sha256"]) == 64 and "random weights" in info["labels"]


def test_create_tiny_refuses_an_existing_name(models: Path, tiny_sd_dir: Path) -> None:
    rxgen("models", "--models-dir", str(models), "add", str(tiny_sd_dir), "--name", "x")
    status, _, err = rxgen("models", "--models-dir", str(models), "create-tiny", "x")
    assert status == 1 and "already exists" in err


def test_add_info_remove(models: Path, tiny_sd_dir: Path) -> None:
    base = ("models", "--models-dir", str(models))
    status, out, _ = rxgen(*base, "add", str(tiny_sd_dir), "--name", "linked", "--link")
    assert status == 0 and out.startswith("linked linked (diffusers")
    assert "warning: random weights" in out
    status, out, _ = rxgen(*base, "info", "linked")
    assert status == 0
    assert f"linked to:   {tiny_sd_dir}" in out and "status:      loadable" in out
    assert "unet/diffusion_pytorch_model.safetensors" in out
    status, out, _ = rxgen(*base, "list", "--json")
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["linked"]
    status, out, _ = rxgen(*base, "remove", "linked")
    assert status == 0 and f"the link to {tiny_sd_dir}" in out
    assert (tiny_sd_dir / "model_index.json").is_file()


def test_errors_go_to_stderr_with_status_1(models: Path, tmp_path: Path) -> None:
    base = ("models", "--models-dir", str(models))
    status, out, err = rxgen(*base, "info", "../../etc/passwd")
    assert (status, out) == (1, "")
    assert err.startswith("rxgen models info: no model named '../../etc/passwd'")
    status, _, err = rxgen(*base, "add", "org/model")
    assert status == 1 and "HF_HUB_OFFLINE" in err
    pickle = tmp_path / "old.ckpt"
    pickle.write_bytes(b"\x80\x04")
    status, out, _ = rxgen(*base, "add", str(pickle))
    assert status == 0 and "warning: it will not be loaded" in out
    status, out, _ = rxgen(*base, "list")
    assert "refused: .ckpt is a pickle format" in out


def test_models_dir_from_the_environment(
    models: Path, tiny_sd_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXGEN_MODELS_DIR", str(models))
    status, _, _ = rxgen("models", "add", str(tiny_sd_dir), "--name", "env")
    assert status == 0 and (models / "env" / "model_index.json").is_file()
