"""Models from the ModelScope hub (``modelscope:org/name[@revision]``), through the
``modelscope`` package's download API, for users who reach ModelScope more easily than Hugging
Face. It is an optional extra (``pip install 'rxgen[modelscope]'``): its own heavy extras pull
in far more than rxgen needs, so it is never a default dependency.

Only repositories in diffusers layout (with a ``model_index.json``) can be loaded: a repository
holding ModelScope's original checkpoint (``configuration.json`` and ``*.pth`` files) is refused
with the way out, rather than half-loaded.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Final

from .store_errors import HubUnavailable, ModelStoreError
from .store_files import check_dir_name

PREFIX: Final = "modelscope:"


def parse_modelscope_source(source: str) -> tuple[str, str | None] | None:
    """``modelscope:org/name[@revision]`` as (model id, revision); None for other sources."""
    if not source.startswith(PREFIX):
        return None
    text, _, revision = source.removeprefix(PREFIX).partition("@")
    parts = text.split("/")
    if len(parts) != 2 or any(part in ("", ".", "..") for part in parts):
        raise ModelStoreError(
            f"{source!r} is not a ModelScope model id; write modelscope:org/name[@revision]"
        )
    return text, revision or None


def add_from_modelscope(model_id: str, revision: str | None, root: Path, name: str | None) -> Path:
    """Download ``model_id`` into the models directory ``root``; returns where it went."""
    if importlib.util.find_spec("modelscope") is None:
        raise HubUnavailable(
            f"cannot download {model_id} from ModelScope: the modelscope package is not "
            "installed; install it with pip install 'rxgen[modelscope]' (or download the model "
            "yourself and `rxgen models add` its folder)"
        )
    from modelscope import snapshot_download  # type: ignore[import-not-found,unused-ignore]

    target = root / check_dir_name(name or model_id.split("/")[1])
    if target.exists():
        raise ModelStoreError(f"cannot download {model_id} to {target}: it already exists")
    partial = target.with_name(f".{target.name}.download")
    try:
        folder = Path(snapshot_download(model_id, revision=revision, cache_dir=str(partial)))
    except Exception as exc:
        raise HubUnavailable(f"downloading {model_id} from ModelScope failed: {exc}") from exc
    if not (folder / "model_index.json").is_file():
        shutil.rmtree(partial, ignore_errors=True)
        raise ModelStoreError(
            f"ModelScope repository {model_id} is not in diffusers layout (no model_index.json): "
            "it holds ModelScope's original checkpoint, which diffusers cannot load directly. "
            "Use a converted copy (e.g. damo-vilab/text-to-video-ms-1.7b on Hugging Face)"
        )
    os.replace(folder, target)
    shutil.rmtree(partial, ignore_errors=True)
    return target
