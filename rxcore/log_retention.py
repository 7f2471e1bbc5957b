"""Keeping a folder of session logs within a size and an age: at start-up, and while recording.

A program that records every session (``rxgen serve`` does, into ``DATA_DIR/logs``) starts a
new log directory each time. :func:`prune_sessions` deletes whole older sessions, those last
written longer ago than the age limit, then the oldest until the rest fit in the size limit;
:func:`open_session` does that and opens the new session's writer, whose own
:class:`~rxcore.segments.Retention` drops its oldest segments past the same limits while it
records (a session that outgrows them loses its beginning, and with it replay from the start;
its states stay readable from the snapshot each segment begins with). Each time the live
session starts a new segment the older sessions are pruned again, counting the live one's
size, so the folder as a whole stays within the limit (give or take a segment) however long
the program runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .log import LogWriter
from .log_sessions import is_log_dir
from .segments import Retention

log = logging.getLogger("rxcore.log_retention")

MIN_SEGMENT = 64 << 10
MAX_SEGMENT = 64 << 20
SEGMENTS_PER_BUDGET = 8  # retention drops whole segments: keep them small next to the limit


@dataclass(frozen=True)
class Session:
    path: Path
    size_bytes: int
    last_write: float


def sessions_in(root: Path) -> list[Session]:
    """The session logs directly under ``root``, oldest (last written) first."""
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        if not is_log_dir(path):
            continue
        files = [f for f in path.iterdir() if f.is_file()]
        stats = [f.stat() for f in files]
        size = sum(s.st_size for s in stats)
        last = max((s.st_mtime for s in stats), default=0.0)
        found.append(Session(path, size, last))
    return sorted(found, key=lambda s: (s.last_write, s.path.name))


def prune_sessions(
    root: str | os.PathLike[str],
    retention: Retention,
    *,
    keep: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Session]:
    """Delete whole sessions under ``root`` past ``retention``; returns those deleted.

    ``keep`` (the session being recorded) is never deleted, but its size counts.
    """
    base = Path(root)
    if is_log_dir(base):
        raise ValueError(f"{base} is one session's log, not a folder of sessions")
    sessions = sessions_in(base)
    now = clock()
    deleted: list[Session] = []
    kept: list[Session] = []
    live = [s for s in sessions if keep is not None and s.path == keep]
    for session in sessions:
        if session in live:
            continue
        too_old = retention.max_age_s is not None and now - session.last_write > retention.max_age_s
        (deleted if too_old else kept).append(session)
    total = sum(s.size_bytes for s in kept + live)
    while kept and retention.max_bytes is not None and total > retention.max_bytes:
        oldest = kept.pop(0)
        total -= oldest.size_bytes
        deleted.append(oldest)
    for session in deleted:
        shutil.rmtree(session.path, ignore_errors=True)
        log.info(
            "deleted old session log %s (%d bytes, last written %s)",
            session.path, session.size_bytes, time.ctime(session.last_write),
        )  # fmt: skip
    return deleted


def segment_size(max_bytes: int | None) -> int:
    if max_bytes is None:
        return MAX_SEGMENT
    return max(MIN_SEGMENT, min(MAX_SEGMENT, max_bytes // SEGMENTS_PER_BUDGET))


def open_session(
    root: str | os.PathLike[str], retention: Retention, name: str | None = None
) -> LogWriter:
    """Prune ``root``'s older sessions, then open a new session's log in it (named after the
    local time unless ``name`` is given) that keeps itself within ``retention``."""
    base = Path(root)
    base.mkdir(parents=True, exist_ok=True)
    prune_sessions(base, retention)
    path = base / (name or time.strftime("%Y%m%d-%H%M%S"))

    def prune_others() -> None:
        # On the recording thread, once a segment. Failing to delete an old session must not
        # stop the recording (nor the program it records): it is tried again at the next roll.
        try:
            prune_sessions(base, retention, keep=path)
        except OSError as error:
            log.warning("could not prune old session logs in %s: %s", base, error)

    return LogWriter(
        path,
        retention=retention,
        max_segment_bytes=segment_size(retention.max_bytes),
        after_roll=prune_others,
    )
