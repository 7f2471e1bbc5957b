"""Paths from untrusted names: validation that nothing escapes its root directory.

``safe_join(root, *parts)`` turns user-supplied names (``/view?filename=&subfolder=``, LoadImage
inputs) into a path inside ``root`` or raises ``UnsafePath``. It refuses, before touching the
disk: ``..`` and ``.`` segments, absolute paths, drive letters, backslashes, NUL and other
control characters, and percent-encoded separators or dot segments (``%2e%2e``, ``%2f``, also
double-encoded). Then it resolves the path, following symlinks, and checks the result is still
inside the resolved root, so a symlink that points outside is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final
from urllib.parse import unquote

SHA256_PATTERN: Final = re.compile(r"[0-9a-f]{64}")

# What the artifact store may hold, and the Content-Type each is served with. No SVG, HTML,
# XML or anything else a browser would run when served inline.
MEDIA_TYPES: Final = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "json": "application/json",
    "latent": "application/octet-stream",
}

_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_MAX_DECODES: Final = 4


class UnsafePath(ValueError):
    """A name that would leave its root, or is not a valid artifact reference."""


def check_sha256(sha256: str) -> str:
    if not isinstance(sha256, str) or SHA256_PATTERN.fullmatch(sha256) is None:
        raise UnsafePath(f"not a sha256 (64 lowercase hex digits): {sha256!r}")
    return sha256


def check_ext(ext: str) -> str:
    if not isinstance(ext, str) or ext not in MEDIA_TYPES:
        raise UnsafePath(f"extension {ext!r} is not allowed; expected one of {sorted(MEDIA_TYPES)}")
    return ext


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks resolved, is strictly inside ``root`` (also resolved)."""
    resolved_root = root.resolve()
    resolved = path.resolve()
    return resolved != resolved_root and resolved.is_relative_to(resolved_root)


def safe_join(root: Path, *parts: str) -> Path:
    """The resolved path of ``parts`` (each may hold ``/``-separated segments) inside ``root``.

    Empty parts are skipped (an empty ``subfolder``), but at least one segment is required.
    Raises ``UnsafePath`` for anything that is not a plain relative name inside ``root``.
    """
    segments: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise UnsafePath(f"not a string: {part!r}")
        if part:
            segments.extend(_segments(part))
    if not segments:
        raise UnsafePath("empty path")
    resolved_root = root.resolve()
    resolved = resolved_root.joinpath(*segments).resolve()
    if resolved == resolved_root or not resolved.is_relative_to(resolved_root):
        raise UnsafePath(f"{'/'.join(segments)!r} resolves outside its directory")
    return resolved


def _segments(part: str) -> list[str]:
    _check_characters(part, part)
    decoded = _fully_unquoted(part)
    if decoded != part:
        # Encoded names are taken literally, but never when decoding would change their meaning.
        _check_characters(decoded, part)
        if decoded.count("/") != part.count("/"):
            raise UnsafePath(f"encoded path separator in {part!r}")
        if any(segment in (".", "..") for segment in decoded.split("/")):
            raise UnsafePath(f"encoded dot segment in {part!r}")
    if part.startswith("/") or _DRIVE.match(part):
        raise UnsafePath(f"absolute path {part!r}")
    segments = part.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise UnsafePath(f"{part!r}: empty, '.' or '..' path segment")
    return segments


def _check_characters(text: str, original: str) -> None:
    if "\\" in text:
        raise UnsafePath(f"backslash in {original!r}")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UnsafePath(f"NUL or control character in {original!r}")


def _fully_unquoted(text: str) -> str:
    for _ in range(_MAX_DECODES):
        decoded = unquote(text)
        if decoded == text:
            return decoded
        text = decoded
    raise UnsafePath("too many layers of percent-encoding")
