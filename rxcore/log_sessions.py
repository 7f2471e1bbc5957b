"""The recorded sessions under a data directory (``DATA_DIR/logs/*``) or any folder of logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .log import Kind, LogError, LogReader
from .segments import LogCorrupted


@dataclass(frozen=True)
class SessionInfo:
    path: Path
    name: str
    size_bytes: int  # segments and their indexes
    segments: int
    first_time: float | None  # when recording started (the header's creation time)
    last_time: float | None  # the newest segment's last write
    first_seq: int | None
    last_seq: int | None
    events: int
    main: str | None
    error: str | None = None  # why the log could not be read, if it could not


def is_log_dir(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.seg"))


def find_logs(root: str | os.PathLike[str]) -> list[Path]:
    """Log directories at ``root``: itself, its children, or its ``logs/`` children."""
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"{base} is not a directory (give a data dir, its logs/ or a log)")
    if is_log_dir(base):
        return [base]
    if (base / "logs").is_dir():
        base = base / "logs"
    return sorted(p for p in base.iterdir() if is_log_dir(p))


def describe(path: Path) -> SessionInfo:
    files = [*path.glob("*.seg"), *path.glob("*.idx")]
    size = sum(f.stat().st_size for f in files if f.exists())
    segments = sorted(path.glob("*.seg"))
    last_time = max((f.stat().st_mtime for f in segments), default=None)
    try:
        with LogReader(path) as reader:
            counts = reader.count_kinds()
            return SessionInfo(
                path=path,
                name=path.name,
                size_bytes=size,
                segments=len(segments),
                first_time=reader.header.created or None,
                last_time=last_time,
                first_seq=reader.first_seq,
                last_seq=reader.last_seq,
                events=counts.get(Kind.EVENT, 0),
                main=reader.header.main,
            )
    except (LogError, LogCorrupted, FileNotFoundError) as exc:
        return SessionInfo(
            path, path.name, size, len(segments), None, last_time, None, None, 0, None, str(exc)
        )


def list_sessions(root: str | os.PathLike[str]) -> list[SessionInfo]:
    """Every recorded session at ``root``, oldest first (names are start times)."""
    return [describe(p) for p in find_logs(root)]
