"""Inspecting model files without loading them, and the sidecars that remember facts about them.

A .safetensors checkpoint's header says which components it holds and carries rxgen's labels;
a diffusers directory's marker file carries labels and a warning. Facts a file cannot hold (its
sha256, which diffusers directory supplies its configuration) live in a JSON sidecar next to it:
``NAME.safetensors.rxgen.json``. A read-only models directory still works; the hash is then
recomputed when asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

__all__ = [
    "SIDECAR_SUFFIX",
    "cached_sha",
    "components_of",
    "directory_digest",
    "file_sha256",
    "labels_of",
    "read_marker",
    "read_safetensors_header",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]

SIDECAR_SUFFIX: Final = ".rxgen.json"


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a .safetensors file (tensor names, shapes, ``__metadata__``).

    Reads only the header (a few hundred kB even for a 7 GB checkpoint), not the tensors.
    """
    with path.open("rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise ValueError("file shorter than a safetensors header")
        length = int.from_bytes(raw, "little")
        if length <= 1 or length > 100 * 1024 * 1024:
            raise ValueError(f"implausible header length {length}")
        data = json.loads(handle.read(length))
    if not isinstance(data, dict):
        raise ValueError("header is not a JSON object")
    return data


def components_of(header: Mapping[str, Any]) -> tuple[str, ...]:
    """The pipeline components a single-file checkpoint's tensor names show it holds."""
    prefixes = {
        "model.diffusion_model.": "unet",
        "first_stage_model.": "vae",
        "cond_stage_model.": "text_encoder",
        "conditioner.": "text_encoder",
    }
    seen: dict[str, None] = {}
    for key in header:
        for prefix, component in prefixes.items():
            if key.startswith(prefix):
                seen[component] = None
    return tuple(seen)


def labels_of(header: Mapping[str, Any]) -> tuple[str, ...]:
    """rxgen's labels from a safetensors header's metadata (``rxgen.labels``, a JSON list)."""
    metadata = header.get("__metadata__") or {}
    try:
        labels = json.loads(metadata.get("rxgen.labels", "[]"))
    except (TypeError, ValueError):
        return ()
    return tuple(str(label) for label in labels) if isinstance(labels, list) else ()


def read_marker(path: Path) -> tuple[tuple[str, ...], str | None]:
    """The labels and warning in a diffusers directory's marker file; none if it is absent."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (), None
    if not isinstance(meta, dict):
        return (), None
    labels = meta.get("labels", [])
    warning = meta.get("warning")
    return (
        tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        str(warning) if warning else None,
    )


# --- sidecars and hashes ------------------------------------------------------------------------


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of the model file ``path``; empty when it is missing or unreadable."""
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_sidecar(path: Path, data: Mapping[str, Any]) -> bool:
    """Replace the sidecar of ``path`` atomically; False when the directory is read-only."""
    target = sidecar_path(path)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, target)
    except OSError:
        partial.unlink(missing_ok=True)
        return False  # a read-only store: the hash is simply recomputed next time
    return True


def file_sha256(path: Path) -> str:
    """The file's sha256, from its sidecar while size and mtime match, else computed and kept."""
    sidecar = read_sidecar(path)
    cached = cached_sha(sidecar, path)
    if cached is not None:
        return cached
    stat = path.stat()
    with path.open("rb") as handle:
        value = hashlib.file_digest(handle, "sha256").hexdigest()
    entry = {"value": value, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    write_sidecar(path, {**sidecar, "sha256": entry})
    return value


def cached_sha(sidecar: Mapping[str, Any], path: Path) -> str | None:
    """The sha256 recorded in ``sidecar``, if the file has not changed since it was hashed."""
    entry = sidecar.get("sha256")
    if not isinstance(entry, dict):
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    if entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        value = entry.get("value")
        return value if isinstance(value, str) else None
    return None  # the file changed since it was hashed


def directory_digest(root: Path, files: Iterable[str]) -> str:
    """A sha256 of each file's relative path, size and mtime plus the text of the small config
    files: it notices replaced weights without reading gigabytes."""
    digest = hashlib.sha256()
    for relative in files:
        path = root / relative
        try:
            stat = path.stat()
        except OSError:  # a dangling link inside the model: its absence is the identity
            digest.update(f"{relative}\0missing\n".encode())
            continue
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        if path.suffix in (".json", ".txt") and stat.st_size < 1 << 20:
            digest.update(path.read_bytes())
    return digest.hexdigest()
