"""Session-log retention: whole old sessions deleted by age, then by size; a live session's
writer drops its own oldest segments past the same size."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rxcore.log import LogReader, LogWriter
from rxcore.log_retention import open_session, prune_sessions, segment_size, sessions_in
from rxcore.segments import Retention

DAY = 86400.0


def session(root: Path, name: str, records: int, age_days: float = 0.0) -> Path:
    path = root / name
    writer = LogWriter(path)
    writer.begin("x:main", {})
    for seq in range(1, records + 1):
        writer.event(seq, "input", {"n": seq, "pad": "x" * 100})
    writer.close()
    stamp = time.time() - age_days * DAY
    for f in path.iterdir():
        os.utime(f, (stamp, stamp))
    return path


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def test_old_sessions_go_first_by_age_then_by_size(tmp_path: Path) -> None:
    ancient = session(tmp_path, "a-ancient", 10, age_days=30)
    old = session(tmp_path, "b-old", 200, age_days=5)
    recent = session(tmp_path, "c-recent", 200, age_days=1)
    newest = session(tmp_path, "d-newest", 200)
    (tmp_path / "notes").mkdir()  # not a log: never touched
    budget = size(recent) + size(newest) + 10
    deleted = prune_sessions(tmp_path, Retention(max_bytes=budget, max_age_s=14 * DAY))
    assert [s.path for s in deleted] == [ancient, old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-recent", "d-newest", "notes"]
    assert [s.path for s in sessions_in(tmp_path)] == [recent, newest]


def test_nothing_goes_when_all_fit(tmp_path: Path) -> None:
    session(tmp_path, "a", 50, age_days=2)
    assert prune_sessions(tmp_path, Retention(max_bytes=1 << 30, max_age_s=3 * DAY)) == []
    assert prune_sessions(tmp_path / "missing", Retention(max_bytes=1)) == []


def test_a_single_log_is_not_a_folder_of_sessions(tmp_path: Path) -> None:
    log = session(tmp_path, "a", 5)
    with pytest.raises(ValueError, match="not a folder of sessions"):
        prune_sessions(log, Retention(max_bytes=0))
    assert log.is_dir()


def test_a_new_session_prunes_the_old_and_keeps_itself_within_the_limit(tmp_path: Path) -> None:
    session(tmp_path, "old", 3000, age_days=1)
    limit = 256 << 10
    writer = open_session(tmp_path, Retention(max_bytes=limit), name="live")
    assert not (tmp_path / "old").exists()  # 3000 records of 100+ bytes: over the limit
    writer.begin("x:main", {})
    for seq in range(1, 20_001):  # about 2.5 MB of records
        writer.event(seq, "input", {"n": seq, "pad": "y" * 100})
        writer.state(seq, "count", {"n": seq})
    writer.close()
    assert size(tmp_path / "live") <= limit + segment_size(limit)
    with LogReader(tmp_path / "live") as reader:
        assert not reader.starts_at_beginning() and reader.last_seq == 20_000
        assert reader.plain_state_at(20_000) == {"n": 20_000}  # from a kept segment's snapshot


def test_segment_size_follows_the_limit() -> None:
    assert segment_size(None) == 64 << 20
    assert segment_size(1 << 30) == 64 << 20
    assert segment_size(8 << 20) == 1 << 20
    assert segment_size(1) == 64 << 10
