"""The files in a data directory that a recorded session refers to, for `rxgen log export`.

What the server's events mention, and where it keeps it:

- ``{"filename", "subfolder", "type"}`` maps (the images a SaveImage or PreviewImage wrote, as
  ComfyUI's history lists them): ``output/``, ``temp/`` or ``input/`` by ``type``;
- relative paths such as a progress preview's ``previews/<id>.jpeg`` (under ``temp/``) or an
  uploaded image a LoadImage names (under ``input/``);
- sha256 hashes of the content-addressed artifact store (``artifacts/ab/cd/<sha256>.<ext>``).

Only files inside the data directory are ever returned (links that lead out are refused).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rxcore.log import Kind, LogReader

_FOLDERS = {"output": "output", "temp": "temp", "input": "input"}
_SEARCHED = ("temp", "input", "output")
_SHA = re.compile(r"[0-9a-f]{64}")
_MAX_NAME = 512


def referenced_files(reader: LogReader, data_dir: Path) -> dict[str, Path]:
    """Relative name (posix, from the data dir) -> file, for every file the log refers to."""
    root = data_dir.resolve()
    strings: set[str] = set()
    found: dict[str, Path] = {}
    for entry in reader.entries(decode=False):
        if entry.kind in (Kind.EVENT, Kind.SINK):
            _collect(entry.value, root, strings, found, 0)
    for text in strings:
        for folder in _SEARCHED:
            _take(root, f"{folder}/{text}", found)
        if _SHA.fullmatch(text):
            shard = root / "artifacts" / text[:2] / text[2:4]
            for path in sorted(shard.glob(f"{text}.*")) if shard.is_dir() else ():
                _take(root, path.relative_to(root).as_posix(), found)
    return found


def _collect(value: Any, root: Path, strings: set[str], found: dict[str, Path], depth: int) -> None:
    if depth > 64:
        return
    if isinstance(value, dict):
        filename, kind = value.get("filename"), value.get("type", "output")
        if isinstance(filename, str) and kind in _FOLDERS:
            subfolder = value.get("subfolder") or ""
            name = f"{_FOLDERS[kind]}/{subfolder}/{filename}" if subfolder else filename
            _take(root, name if subfolder else f"{_FOLDERS[kind]}/{filename}", found)
        for item in value.values():
            _collect(item, root, strings, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, root, strings, found, depth + 1)
    elif isinstance(value, str) and 0 < len(value) <= _MAX_NAME and "\n" not in value:
        strings.add(value)


def _take(root: Path, name: str, found: dict[str, Path]) -> None:
    if name in found or name.startswith("/") or ".." in name.split("/"):
        return
    path = root / name
    try:
        if not path.is_file() or not path.resolve().is_relative_to(root):
            return
    except OSError:
        return
    found[Path(name).as_posix()] = path
