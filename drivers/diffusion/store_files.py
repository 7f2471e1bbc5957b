"""Files in the models directory: their layout and kinds, walking it, naming and placing models.

Walks follow symlinks (models are often linked in) but guard against loops and stop at a fixed
depth. New names are plain relative paths: no traversal, no hidden parts, no absolute paths.
Models are copied next to their destination and renamed into place, so a half-copied model never
appears in a listing.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from .checkpoints import SIDECAR_SUFFIX
from .store_errors import ModelStoreError

__all__ = [
    "CHECKPOINTS_DIR",
    "PICKLE_HELP",
    "PICKLE_SUFFIXES",
    "SAFETENSORS_SUFFIXES",
    "check_dir_name",
    "check_name",
    "place",
    "size_of",
    "walk_files",
    "walk_model_dirs",
]

CHECKPOINTS_DIR: Final = "checkpoints"
SAFETENSORS_SUFFIXES: Final = (".safetensors", ".sft")
# ComfyUI's list of "pt" extensions minus safetensors: all of these unpickle on load.
PICKLE_SUFFIXES: Final = (".ckpt", ".pt", ".pt2", ".bin", ".pth", ".pkl")
PICKLE_HELP: Final = (
    "loading a pickle file runs any code it contains; convert it to .safetensors, or start rxgen "
    "with pickle loading explicitly allowed if you trust its source"
)
_NAME_PART: Final = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9_.+ ()\[\]-]*$")


def check_name(name: str) -> str:
    """A store-relative name for a new model: plain path parts, no traversal, no hidden parts."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or not all(_NAME_PART.match(part) for part in parts):
        raise ModelStoreError(
            f"invalid model name {name!r}: use letters, digits and _ . + - ( ) [ ] or spaces, "
            "optionally in sub/folders; no leading dot, no '..', no absolute paths"
        )
    return "/".join(parts)


def check_dir_name(name: str) -> str:
    """:func:`check_name` for a diffusers directory, which may not live under checkpoints/."""
    relative = check_name(name)
    if relative.split("/")[0] == CHECKPOINTS_DIR:
        raise ModelStoreError(
            f"invalid name {name!r} for a diffusers directory: {CHECKPOINTS_DIR}/ holds "
            "single-file checkpoints only; choose a name outside it"
        )
    return relative


def place(source: Path, target: Path, *, link: bool) -> None:
    """Copy ``source`` (a file or directory) to ``target``, or symlink it with ``link=True``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(source, target_is_directory=source.is_dir())
        return
    # Copy next to the target and rename, so a half-copied model never appears in listings.
    partial = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        if source.is_dir():
            shutil.copytree(source, partial, symlinks=False)
        else:
            shutil.copy2(source, partial)
        os.replace(partial, target)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a dangling symlink: listed, counted as empty
        return 0


def walk_files(root: Path, depth: int, *, hidden: bool = False) -> Iterator[Path]:
    """Files under ``root`` (following symlinks, guarding against loops), hidden ones skipped."""
    yield from _walk(root, depth, hidden=hidden, want_files=True, skip=None, seen=set())


def walk_model_dirs(root: Path, depth: int, *, skip: Path) -> Iterator[Path]:
    """Directories holding model_index.json; the walk does not go inside them."""
    yield from _walk(root, depth, hidden=False, want_files=False, skip=skip, seen=set())


def _walk(
    folder: Path, depth: int, *, hidden: bool, want_files: bool, skip: Path | None, seen: set[str]
) -> Iterator[Path]:
    try:
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and not hidden:
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if path == skip or depth <= 0:
                continue
            if not want_files and (path / "model_index.json").is_file():
                yield path
                continue
            yield from _walk(
                path, depth - 1, hidden=hidden, want_files=want_files, skip=skip, seen=seen
            )
        elif want_files and (entry.is_file() or entry.is_symlink()):
            if entry.name.endswith(SIDECAR_SUFFIX):
                continue
            yield path
