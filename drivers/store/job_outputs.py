"""A finished job's output files, taken into the content-addressed artifact store.

SaveImage and the video savers write ComfyUI-style files into the output folder (so ``/view``
works as ComfyUI clients expect); this copies each into the artifact store, records the blob,
and links it to the job, which gives the job's owner (and only them) a hold on it for the
gallery and ``/api/artifacts``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store import artifacts_db
from drivers.store.artifacts import ArtifactStore
from drivers.store.paths import MEDIA_TYPES, UnsafePath, safe_join

log = logging.getLogger(__name__)
_FILE_LISTS = ("images", "gifs", "videos", "animated", "audio")


class OutputFile(NamedTuple):
    node_id: str
    position: int
    subfolder: str
    filename: str


class Stored(NamedTuple):
    sha256: str
    ext: str
    size: int
    width: int | None
    height: int | None


def named_files(ui: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(type, subfolder, filename)`` of every file a node's ui names, each once (a video is
    listed as videos, gifs and images)."""
    seen: set[tuple[str, str, str]] = set()
    for key in _FILE_LISTS:
        entries = ui.get(key)
        if not isinstance(entries, list | tuple):
            continue
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            name = entry.get("filename")
            if not isinstance(name, str) or not name:
                continue
            found = (str(entry.get("type", "output")), str(entry.get("subfolder") or ""), name)
            if found not in seen:
                seen.add(found)
                yield found


def file_key(subfolder: str, filename: str) -> str:
    """A file's path relative to its folder, as ``file_owners`` records it."""
    parts = f"{subfolder}/{filename}".replace("\\", "/").split("/")
    return "/".join(p for p in parts if p not in ("", "."))


def output_files(outputs: Mapping[str, Mapping[str, Any]]) -> Iterator[OutputFile]:
    """The files a job's outputs name in the output folder (previews in temp are skipped)."""
    for node_id, ui in outputs.items():
        position = 0
        for kind, subfolder, name in named_files(ui):
            if kind == "output":
                yield OutputFile(node_id, position, subfolder, name)
                position += 1


def store_file(store: ArtifactStore, path: Path) -> Stored | None:
    """Copy ``path`` into ``store``; None when its type is not one the store serves."""
    ext = path.suffix.lower().lstrip(".")
    ext = "jpg" if ext == "jpeg" else ext
    if ext not in MEDIA_TYPES:
        return None
    sha256 = store.put(path, ext)
    width = height = None
    if MEDIA_TYPES[ext].startswith("image/"):
        try:
            with Image.open(path) as image:
                width, height = image.size
        except OSError:
            pass
    return Stored(sha256, ext, path.stat().st_size, width, height)


async def archive_outputs(
    session: AsyncSession,
    store: ArtifactStore,
    output_dir: Path,
    job_id: str,
    outputs: Mapping[str, Mapping[str, Any]],
) -> int:
    """Take every output file of ``job_id`` into ``store``; how many were archived."""
    archived = 0
    for item in output_files(outputs):
        try:
            path = safe_join(output_dir, item.subfolder, item.filename)
        except UnsafePath:
            log.warning("job %s names an unsafe output %r; not archived", job_id, item.filename)
            continue
        if not path.is_file():
            continue
        stored = await asyncio.to_thread(store_file, store, path)
        if stored is None:
            continue
        await artifacts_db.record_blob(
            session,
            stored.sha256,
            ext=stored.ext,
            size=stored.size,
            media_type=MEDIA_TYPES[stored.ext],
            width=stored.width,
            height=stored.height,
        )
        await artifacts_db.link_job_output(
            session, job_id, item.node_id, item.position, stored.sha256
        )
        archived += 1
    return archived
