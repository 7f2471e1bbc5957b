"""The Hugging Face hub: recognising hub ids, choosing which files to fetch, and downloading
a pipeline or a checkpoint into the models directory.

Like :mod:`drivers.diffusion.models`, this module does not import torch or diffusers, and it
imports huggingface_hub only inside the functions that need it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from .store_errors import HubUnavailable, ModelStoreError, RefusedModel
from .store_files import (
    CHECKPOINTS_DIR,
    PICKLE_HELP,
    PICKLE_SUFFIXES,
    SAFETENSORS_SUFFIXES,
    check_dir_name,
    check_name,
)

__all__ = [
    "HubSource",
    "add_from_hub",
    "hub_offline",
    "parse_hub_source",
    "pick_hub_files",
]

_HUB_REPO: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def hub_offline(env: Mapping[str, str] | None = None) -> bool:
    """Whether Hugging Face hub access is switched off (``HF_HUB_OFFLINE`` or its constant)."""
    env = os.environ if env is None else env
    if env.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    # huggingface_hub reads the variable once at import; tests and embedders may flip the
    # constant afterwards, and the library obeys the constant.
    return bool(constants.HF_HUB_OFFLINE)


@dataclass(frozen=True)
class HubSource:
    repo_id: str
    filename: str | None  # a single file inside the repo, or None for a whole pipeline
    revision: str | None


def parse_hub_source(source: str) -> HubSource | None:
    """``org/name[@rev]`` or ``org/name/path/file.safetensors[@rev]``; None if it is neither."""
    text, _, revision = source.partition("@")
    parts = text.split("/")
    if len(parts) < 2 or not _HUB_REPO.match("/".join(parts[:2])):
        return None
    if any(part in ("", ".", "..") for part in parts):
        return None
    filename = "/".join(parts[2:]) or None
    return HubSource("/".join(parts[:2]), filename, revision or None)


def pick_hub_files(files: Sequence[str]) -> list[str]:
    """Which files of a diffusers repository to download for inference.

    Hub repos often hold the same weights several times (fp32 and fp16 variants, EMA and
    non-EMA, .bin and .safetensors, plus full single-file checkpoints at the top level). Take
    every small config file, and per component folder one set of safetensors weights: the plain
    ones, or the fp16 variant when there are no plain ones. Never pickles (.bin/.ckpt), never
    the safety checker's weights (rxgen does not run it).
    """
    picked: list[str] = []
    weights: dict[str, list[str]] = {}
    for path in files:
        parts = path.split("/")
        suffix = PurePosixPath(path).suffix.lower()
        if suffix in (".json", ".txt", ".model") and len(parts) <= 2:
            picked.append(path)
        elif (
            suffix == ".safetensors"
            and len(parts) == 2
            and parts[0] != "safety_checker"
            and "ema" not in parts[1].split(".")
            and "non_ema" not in parts[1]
        ):
            weights.setdefault(parts[0], []).append(path)
    for folder_files in weights.values():
        plain = [f for f in folder_files if len(PurePosixPath(f).name.split(".")) == 2]
        fp16 = [f for f in folder_files if ".fp16." in PurePosixPath(f).name]
        picked.extend(plain or fp16)
    return sorted(picked)


def add_from_hub(hub: HubSource, root: Path, name: str | None, *, allow_pickle: bool) -> Path:
    """Download what ``hub`` names into the models directory ``root``; returns where it went.

    A pipeline becomes a diffusers directory (named ``name``, else after the repository), one
    file a checkpoint under ``checkpoints/``. Downloads land in a hidden partial path first and
    are renamed into place once complete.
    """
    if hub.filename is not None:
        return _add_hub_file(hub, root, name, allow_pickle=allow_pickle)
    relative = check_dir_name(name or hub.repo_id.split("/")[1])
    target = root / relative
    if target.exists():
        raise ModelStoreError(f"cannot download {hub.repo_id} to {target}: it already exists")
    _require_hub(hub.repo_id)
    from huggingface_hub import HfApi, snapshot_download

    # A stable partial name lets a re-run resume an interrupted multi-gigabyte download.
    partial = target.with_name(f".{target.name}.download")
    try:
        files = HfApi().list_repo_files(hub.repo_id, revision=hub.revision)
        if "model_index.json" not in files:
            raise ModelStoreError(
                f"hub repository {hub.repo_id} has no model_index.json, so it is not a "
                "diffusers pipeline; to add one checkpoint from it use "
                f"{hub.repo_id}/<file>.safetensors"
            )
        snapshot_download(
            hub.repo_id,
            revision=hub.revision,
            local_dir=partial,
            allow_patterns=pick_hub_files(files),
        )
    except ModelStoreError:
        raise
    except Exception as exc:
        raise _hub_error(hub.repo_id, exc) from exc
    shutil.rmtree(partial / ".cache", ignore_errors=True)  # huggingface_hub's resume state
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, target)
    return target


def _add_hub_file(hub: HubSource, root: Path, name: str | None, *, allow_pickle: bool) -> Path:
    assert hub.filename is not None
    suffix = PurePosixPath(hub.filename).suffix.lower()
    if suffix in PICKLE_SUFFIXES and not allow_pickle:
        raise RefusedModel(
            f"not downloading {hub.filename}: {suffix} is a pickle format; {PICKLE_HELP}"
        )
    if suffix not in SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES:
        raise ModelStoreError(f"{hub.filename} is not a checkpoint file (.safetensors)")
    relative = check_name(name or PurePosixPath(hub.filename).name)
    target = root / CHECKPOINTS_DIR / relative
    if target.exists():
        raise ModelStoreError(f"cannot download to {target}: it already exists")
    _require_hub(hub.repo_id)
    from huggingface_hub import hf_hub_download

    partial = root / f".{hub.repo_id.replace('/', '--')}.download"
    try:
        downloaded = hf_hub_download(
            hub.repo_id, hub.filename, revision=hub.revision, local_dir=partial
        )
    except Exception as exc:
        raise _hub_error(hub.repo_id, exc) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(downloaded, target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def _require_hub(repo_id: str) -> None:
    if hub_offline():
        raise HubUnavailable(
            f"cannot download {repo_id!r}: Hugging Face hub access is switched off "
            "(HF_HUB_OFFLINE is set). Unset it, or download the model on a machine with "
            "internet access and add the local directory with `rxgen models add DIR`"
        )


def _hub_error(repo_id: str, exc: Exception) -> ModelStoreError:
    text = f"{type(exc).__name__}: {exc}".strip()
    lowered = text.lower()
    if "not found" in lowered or "404" in lowered or "401" in lowered:
        return ModelStoreError(
            f"hub repository or file {repo_id!r} was not found (or is gated and needs "
            f"`huggingface-cli login`): {text}"
        )
    return HubUnavailable(
        f"could not download {repo_id!r} from the Hugging Face hub: {text}. If this machine "
        "is offline, download the model elsewhere and add the local copy with "
        "`rxgen models add DIR`"
    )
