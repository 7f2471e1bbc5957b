"""The debugger's function API (rxcore.log_view), state diffs (rxcore.log_diff), sessions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from rxcore.log import Kind, LogReader
from rxcore.log_diff import Change, PointerError, changes, resolve
from rxcore.log_query import Query
from rxcore.log_sessions import list_sessions
from rxcore.log_view import LogView, Viewer, row_json

from .log_samples import write_sample

Sample = tuple[Path, list[tuple[int, str, Any]]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("v")
    history = write_sample(root / "logs" / "s1")
    return root / "logs" / "s1", history


def test_changes_name_each_path_added_removed_or_changed() -> None:
    before = {"a": 1, "b": {"c": [1, 2, 3], "d": "x"}, "gone": True}
    after = {"a": 2, "b": {"c": [2, 3], "d": "x", "e/f": None}}
    assert changes(before, after) == [
        Change("changed", "/a", 1, 2),
        Change("removed", "/b/c/0", before=1),
        Change("added", "/b/e~1f", after=None),
        Change("removed", "/gone", before=True),
    ]
    typed = changes({"$t": "m:A", "x": 1}, {"$t": "m:B", "x": 1})
    assert [c.op for c in typed] == ["changed"] and typed[0].path == ""
    assert changes([{"k": 1}], [{"k": 2}, {"k": 3}]) == [
        Change("changed", "/0/k", 1, 2),
        Change("added", "/1", after={"k": 3}),
    ]
    assert changes({"same": [1]}, {"same": [1]}) == []


def test_resolve_follows_a_pointer_or_says_what_is_there() -> None:
    doc = {"a": {"b": [10, 20]}, "x/y": 1}
    assert resolve(doc, "/a/b/1") == 20 and resolve(doc, "/x~1y") == 1 and resolve(doc, "") == doc
    with pytest.raises(PointerError, match=r"no 'z' under /a \(it has: b\)"):
        resolve(doc, "/a/z")
    with pytest.raises(PointerError, match="must start with '/'"):
        resolve(doc, "a")


def test_state_at_every_seq_equals_the_recorded_state(sample: Sample) -> None:
    path, history = sample
    with LogView(path) as view:
        for seq, _job, state in history:
            assert view.state_at(seq) == state
        assert view.state_at(12, "/finished") == ["j1", "j2", "j3"]
        diff = view.diff(11, 12)
    assert diff == [Change("removed", "/jobs/j3", before={"user": "alice", "done": 2}),
                    Change("added", "/finished/2", after="j3")]  # fmt: skip


def test_a_user_sees_only_their_own_jobs_records_and_state(sample: Sample) -> None:
    path, _ = sample
    bob = Viewer("bob")
    with LogView(path) as view:
        page = view.page(Query(), limit=1000, viewer=bob)
        assert {r.entry.seq for r in page.rows} == {2, 5, 8, 11}
        text = json.dumps([row_json(r) for r in page.rows])
        assert "secret of alice" not in text and "j1" not in text and "j3" not in text
        assert "secret of bob" in text
        assert view.state_at(6, viewer=bob) == {"jobs": {"j2": {"user": "bob", "done": 1}},
                                                "finished": []}  # fmt: skip
        assert view.state_at(12, "/finished", viewer=bob) == ["j2"]
        everything = view.page(Query(), limit=1000, viewer=Viewer("root", is_admin=True))
        assert len(everything.rows) == 1 + 12 * 3


def test_a_users_state_rows_lose_other_users_patch_operations(sample: Sample) -> None:
    path, _ = sample
    with LogView(path) as view:
        states = view.page(Query(kinds=frozenset({Kind.STATE})), limit=100, viewer=Viewer("bob"))
    for row in states.rows:
        for op in row.entry.value:
            assert "/j1" not in op["path"] and "/j3" not in op["path"]
            assert "alice" not in json.dumps(op)


def test_sessions_list_size_span_and_event_count(sample: Sample) -> None:
    path, _ = sample
    (info,) = list_sessions(path.parent.parent)  # a data dir: finds logs/
    assert info.name == "s1" and info.events == 12 and (info.first_seq, info.last_seq) == (0, 12)
    assert info.size_bytes == sum(f.stat().st_size for f in path.iterdir())
    assert info.first_time is not None and info.last_time is not None
    assert abs(info.first_time - time.time()) < 600 and info.error is None
    assert list_sessions(path)[0].name == "s1"  # the log itself


def test_counting_kinds_from_headers_agrees_with_reading(sample: Sample, tmp_path: Path) -> None:
    path, _ = sample
    with LogReader(path) as reader:
        counted = reader.count_kinds()
        read: dict[Kind, int] = {}
        for entry in reader.entries():
            read[entry.kind] = read.get(entry.kind, 0) + 1
    assert counted == read
    torn = tmp_path / "torn"
    torn.mkdir()
    for f in path.iterdir():
        (torn / f.name).write_bytes(f.read_bytes())
    seg = next(torn.glob("*.seg"))
    seg.write_bytes(seg.read_bytes()[:-5])  # a crash in the middle of the last frame
    with LogReader(torn) as reader:
        torn_read: dict[Kind, int] = {}
        for entry in reader.entries():
            torn_read[entry.kind] = torn_read.get(entry.kind, 0) + 1
        assert reader.count_kinds() == torn_read
    assert sum(torn_read.values()) < sum(read.values())  # the records of the torn frame
