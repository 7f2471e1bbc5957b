"""Session-log retention: whole old sessions deleted by age, then by size; a live session's
writer drops its own oldest segments past the same size."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

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


def test_older_sessions_are_pruned_while_a_long_session_records(tmp_path: Path) -> None:
    limit = 512 << 10
    session(tmp_path, "older", 1500, age_days=1)
    session(tmp_path, "old", 1500, age_days=0.5)
    assert size(tmp_path / "older") + size(tmp_path / "old") < limit  # both fit at start-up
    writer = open_session(tmp_path, Retention(max_bytes=limit), name="live")
    assert (tmp_path / "older").exists() and (tmp_path / "old").exists()
    writer.begin("x:main", {})
    seq = 0
    while (tmp_path / "old").exists():
        for _ in range(500):
            seq += 1
            writer.event(seq, "input", {"n": seq, "pad": "y" * 100})
        writer.flush()
        total = sum(size(p) for p in tmp_path.iterdir())
        assert total <= limit + 2 * segment_size(limit), f"{total} bytes after seq {seq}"
        assert seq < 100_000, "the old sessions were never pruned"
    assert not (tmp_path / "older").exists()  # the oldest went first
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["live"]


def test_a_failed_prune_does_not_stop_the_recording(tmp_path: Path, monkeypatch: Any) -> None:
    import rxcore.log_retention as retention_module

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise PermissionError("read-only folder")

    limit = 256 << 10
    writer = open_session(tmp_path, Retention(max_bytes=limit), name="live")
    monkeypatch.setattr(retention_module, "prune_sessions", refuse)
    writer.begin("x:main", {})
    for seq in range(1, 5_001):  # several rolls, each trying (and failing) to prune
        writer.event(seq, "input", {"n": seq, "pad": "y" * 100})
    writer.close()
    with LogReader(tmp_path / "live") as reader:
        assert reader.last_seq == 5_000
