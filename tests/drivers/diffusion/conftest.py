"""Fixtures for the diffusion tests: a tiny random-weight SD model, built once per session.

Everything here is offline: ``HF_HUB_OFFLINE=1`` is set before huggingface_hub is imported
(and its constant patched, in case another test package imported it first), so a test that
would reach for the hub fails fast instead of downloading.

Reusing the tiny model from another test package: re-export the fixtures from that package's
``conftest.py`` (in a test module the import would be shadowed by the fixture arguments)::

    from tests.drivers.diffusion.conftest import offline_hub, tiny_sd_dir  # noqa: F401

or call ``drivers.diffusion.tiny.ensure_tiny_sd(tmp_path_factory.getbasetemp() /
"rxgen-tiny-sd")`` in a session-scoped fixture of your own: same path, so the model is built
once per session whoever asks first (tests/webapp/test_models_cli.py does this).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before diffusers/huggingface_hub read it at import

import pytest
import torch

from drivers.diffusion.tiny import ensure_tiny_sd, save_single_file

__all__ = ["config_only_copy", "offline_hub", "one_torch_thread", "tiny_sd_dir", "tiny_sd_file"]


@pytest.fixture(scope="session", autouse=True)
def offline_hub() -> Iterator[None]:
    """Hub access off for the whole session, whatever imported huggingface_hub first."""
    import huggingface_hub.constants as hub_constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
        yield


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory, offline_hub: None) -> Path:
    """A tiny random-weight SD1.x diffusers directory (seed 0). Read-only: copy it to modify."""
    return ensure_tiny_sd(tmp_path_factory.getbasetemp() / "rxgen-tiny-sd", seed=0)


@pytest.fixture(scope="session")
def tiny_sd_file(tiny_sd_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as one original-layout .safetensors checkpoint; its config is
    ``config_only_copy(tiny_sd_dir)``-style (see the single-file tests)."""
    out = tmp_path_factory.mktemp("tiny-single") / "tiny-sd.safetensors"
    return save_single_file(tiny_sd_dir, out)


def config_only_copy(source: Path, target: Path) -> Path:
    """Copy a diffusers directory's configuration without its weights: what a single-file
    checkpoint needs beside it (diffusers fetches exactly these *.json/*.txt files from the hub)."""

    def weights(_: str, names: list[str]) -> list[str]:
        return [n for n in names if n.endswith((".safetensors", ".bin"))]

    shutil.copytree(source, target, ignore=weights)
    return target


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """torch CPU results depend on the thread count: tests comparing images or hashes pin it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
