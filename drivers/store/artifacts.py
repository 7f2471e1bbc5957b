"""The content-addressed artifact store: files named by SHA-256 under ``<data_dir>/artifacts``.

Layout: ``artifacts/ab/cd/<sha256>.<ext>`` (``ab``, ``cd``: the first two byte pairs of the
hash). A file is written to a temporary file in ``artifacts/.tmp``, flushed to disk, then
renamed into place, so a crash never leaves a partial file under its final name, and writing
the same content twice stores it once. The ETag of an artifact is its hash: a file never
changes under its name, so it can be served with immutable caching.

Only names built here are ever opened: ``path_for`` checks the hash (64 lowercase hex) and the
extension (``MEDIA_TYPES``), resolves symlinks and refuses anything outside the store. Blocking
file I/O: call it from a thread (``asyncio.to_thread``), not on the event loop.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple

from drivers.store.images import THUMBNAIL_SIDE, make_thumbnail, reencode_upload
from drivers.store.paths import MEDIA_TYPES, UnsafePath, check_ext, check_sha256

ARTIFACTS_DIR: Final = "artifacts"
_CHUNK: Final = 1024 * 1024
_TMP_MAX_AGE_S: Final = 3600.0
_IMAGE_EXTS: Final = ("png", "jpg", "webp", "gif")


class ArtifactNotFound(FileNotFoundError):
    """No stored artifact with this hash and extension."""


@dataclass(frozen=True, slots=True)
class ArtifactStat:
    sha256: str
    ext: str
    size: int
    mtime: float
    path: Path

    @property
    def etag(self) -> str:
        return etag(self.sha256)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.ext]


class Ingested(NamedTuple):
    sha256: str
    ext: str
    width: int
    height: int


def etag(sha256: str) -> str:
    """The HTTP ETag for an artifact: its hash, quoted (strong: the bytes never change)."""
    return f'"{sha256}"'


class ArtifactStore:
    """Files by content hash under ``<data_dir>/artifacts`` (created if missing)."""

    def __init__(self, data_dir: Path) -> None:
        root = Path(data_dir) / ARTIFACTS_DIR
        root.mkdir(parents=True, exist_ok=True)
        self.root: Final = root.resolve()
        self._tmp: Final = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)
        self._thumbs: Final = self.root / ".thumbs"
        self._sweep_tmp()

    def put(self, data: bytes | Path, ext: str) -> str:
        """Store ``data`` (bytes, or a file streamed in chunks) as ``ext``; its SHA-256."""
        check_ext(ext)
        if isinstance(data, Path):
            return self._put_file(data, ext)
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._target(sha256, ext)
        if not target.exists():
            self._write_atomically(target, data)
        return sha256

    def path_for(self, sha256: str, ext: str) -> Path:
        """The file for ``sha256.ext`` (which may not exist); ``UnsafePath`` if invalid."""
        target = self._target(check_sha256(sha256), check_ext(ext))
        resolved = target.resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise UnsafePath(f"{sha256}.{ext} resolves outside the artifact store")
        return resolved

    def exists(self, sha256: str, ext: str) -> bool:
        return self.path_for(sha256, ext).is_file()

    def stat(self, sha256: str, ext: str) -> ArtifactStat | None:
        path = self.path_for(sha256, ext)
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        return ArtifactStat(sha256, ext, info.st_size, info.st_mtime, path)

    def open(self, sha256: str, ext: str) -> BinaryIO:
        """The artifact opened for reading; ``ArtifactNotFound`` if it is not stored."""
        path = self.path_for(sha256, ext)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError as exc:
            raise ArtifactNotFound(f"no artifact {sha256}.{ext}") from exc
        return os.fdopen(fd, "rb")

    def read_bytes(self, sha256: str, ext: str) -> bytes:
        with self.open(sha256, ext) as file:
            return file.read()

    def locate(self, sha256: str) -> str | None:
        """The extension ``sha256`` is stored under, None if it is not stored."""
        check_sha256(sha256)
        for ext in MEDIA_TYPES:
            if self.exists(sha256, ext):
                return ext
        return None

    def thumbnail(self, sha256: str, max_side: int = THUMBNAIL_SIDE) -> str:
        """The SHA-256 of a WebP thumbnail of image ``sha256`` (made once, then cached)."""
        ext = self.locate(sha256)
        if ext is None:
            raise ArtifactNotFound(f"no artifact {sha256}")
        if ext not in _IMAGE_EXTS:
            raise ValueError(f"no thumbnails for .{ext} artifacts")
        marker = self._thumbs / sha256[:2] / f"{sha256}.{int(max_side)}"
        try:
            cached = marker.read_text().strip()
            if _is_sha256(cached) and self.exists(cached, "webp"):
                return cached
        except FileNotFoundError:
            pass
        thumb = make_thumbnail(self.path_for(sha256, ext), max_side)
        thumb_sha = self.put(thumb.data, thumb.ext)
        marker.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomically(marker, thumb_sha.encode())
        return thumb_sha

    def ingest_upload(self, data: bytes, filename: str = "") -> Ingested:
        """Store an uploaded image, decoded and re-encoded (``images.reencode_upload``)."""
        encoded = reencode_upload(data, filename)
        sha256 = self.put(encoded.data, encoded.ext)
        return Ingested(sha256, encoded.ext, encoded.width, encoded.height)

    def _sweep_tmp(self) -> None:
        """Remove temporary files a crashed writer left (old enough not to be in use)."""
        cutoff = time.time() - _TMP_MAX_AGE_S
        for leftover in self._tmp.iterdir():
            try:
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass

    def _target(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.{ext}"

    def _put_file(self, source: Path, ext: str) -> str:
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            target = self._target(sha256, ext)
            if not target.exists():
                self._rename_into_place(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return sha256

    def _write_atomically(self, target: Path, data: bytes) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._rename_into_place(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _rename_into_place(self, tmp: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        _fsync_dir(target.parent)


def _is_sha256(text: str) -> bool:
    try:
        check_sha256(text)
    except UnsafePath:
        return False
    return True


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
