"""One self-contained file for a recorded session: its log segments plus the files it refers to.

A bundle is a zip archive::

    manifest.json           format, version, the log's name, sha256 and size of every member
    log/<name>/*.seg|*.idx  the segments, byte for byte (redactions stay redactions)
    data/<relative path>    referenced files, at their path relative to the data directory

Which files a log refers to is the caller's business (it depends on where the application
keeps them); this module only packs and unpacks, checks every member's hash on import, refuses
members that would land outside the target, and never overwrites a different file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .log import LogError

FORMAT = "rxgen.log-bundle"
VERSION = 1
_MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BundleError(ValueError):
    pass


@dataclass(frozen=True)
class Manifest:
    log: str
    created: float
    members: dict[str, dict[str, Any]]  # archive name -> {"sha256", "size"}

    @property
    def data_files(self) -> list[str]:
        """Paths relative to the data directory of the referenced files."""
        return sorted(n.removeprefix("data/") for n in self.members if n.startswith("data/"))


@dataclass(frozen=True)
class Imported:
    log: Path
    written: list[Path]
    already_there: list[Path]


def export_bundle(
    log_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    files: Mapping[str, Path],
    *,
    created: float = 0.0,
) -> Manifest:
    """Write ``log_dir`` and ``files`` (relative name -> file) to the bundle ``out``."""
    log_path = Path(log_dir)
    segments = sorted(p for p in log_path.iterdir() if p.suffix in (".seg", ".idx"))
    if not any(p.suffix == ".seg" for p in segments):
        raise LogError(f"{log_path} holds no *.seg segment: nothing to export")
    target = Path(out)
    members: dict[str, dict[str, Any]] = {}
    fd, tmp = tempfile.mkstemp(prefix=".rxlog-", dir=target.parent or Path("."))
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for path in segments:
                _add(archive, path, f"log/{log_path.name}/{path.name}", members)
            for name, path in sorted(files.items()):
                _add(archive, path, "data/" + _safe_name(name).as_posix(), members)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "log": log_path.name,
                "created": created,
                "members": members,
            }
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Manifest(log_path.name, created, members)


def _add(
    archive: zipfile.ZipFile, path: Path, name: str, members: dict[str, dict[str, Any]]
) -> None:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source, archive.open(name, "w", force_zip64=True) as sink:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            sink.write(chunk)
            size += len(chunk)
    members[name] = {"sha256": digest.hexdigest(), "size": size}


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise BundleError(f"bundle member name {name!r} is not a plain relative path")
    return path


def read_manifest(bundle: str | os.PathLike[str]) -> Manifest:
    try:
        with zipfile.ZipFile(bundle) as archive:
            return _manifest(archive, Path(bundle))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{bundle} is not an rxgen log bundle (not a zip file: {exc})") from None


def _manifest(archive: zipfile.ZipFile, where: Path) -> Manifest:
    try:
        data = json.loads(archive.read(_MANIFEST))
    except KeyError:
        raise BundleError(f"{where} has no {_MANIFEST}: not an rxgen log bundle") from None
    if data.get("format") != FORMAT:
        raise BundleError(f"{where} is not an rxgen log bundle (format {data.get('format')!r})")
    if int(data.get("version", 0)) > VERSION:
        raise BundleError(
            f"{where} is bundle version {data['version']}; this rxgen reads up to {VERSION}: "
            "upgrade rxgen"
        )
    log = str(data["log"])
    _safe_name(log)
    return Manifest(log, float(data.get("created", 0.0)), dict(data["members"]))


def import_bundle(
    bundle: str | os.PathLike[str], data_dir: str | os.PathLike[str], *, logs: str = "logs"
) -> Imported:
    """Unpack into ``data_dir``: the log under ``data_dir/logs/<name>``, files at their paths."""
    root = Path(data_dir)
    try:
        archive = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"cannot open {bundle} as an rxgen log bundle: {exc}") from None
    with archive:
        manifest = _manifest(archive, Path(bundle))
        log_dir = root / logs / manifest.log
        if log_dir.exists() and any(log_dir.iterdir()):
            raise BundleError(
                f"{log_dir} already exists; import into another data dir, or remove it first"
            )
        planned: list[tuple[str, Path]] = []
        for name in manifest.members:
            if name.startswith(f"log/{manifest.log}/"):
                planned.append((name, log_dir / _safe_name(name).name))
            elif name.startswith("data/"):
                planned.append((name, root / _safe_name(name.removeprefix("data/"))))
            else:
                raise BundleError(f"{bundle}: unexpected member {name!r}")
        written: list[Path] = []
        same: list[Path] = []
        staging = Path(tempfile.mkdtemp(prefix=".rxlog-import-", dir=_ensure(root)))
        try:
            for name, target in planned:
                staged = staging / str(len(written) + len(same))
                _extract(archive, name, manifest.members[name], staged, Path(bundle))
                if target.exists():
                    if _sha256(target) != manifest.members[name]["sha256"]:
                        raise BundleError(
                            f"{target} already exists with different content; the bundle's "
                            f"copy was not written. Import into an empty data dir instead"
                        )
                    same.append(target)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
                written.append(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Imported(log_dir, written, same)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _extract(
    archive: zipfile.ZipFile, name: str, meta: Mapping[str, Any], target: Path, where: Path
) -> None:
    digest = hashlib.sha256()
    try:
        source = archive.open(name)
    except KeyError:
        raise BundleError(
            f"{where}: the manifest lists {name!r} but the archive lacks it"
        ) from None
    with source, open(target, "wb") as sink:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != meta.get("sha256"):
        raise BundleError(f"{where}: {name} does not match its sha256 in the manifest (damaged)")


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
