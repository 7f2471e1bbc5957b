"""Filtering and paging a recorded log (rxcore.log_query, rxcore.log_attribution)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxcore.log import Kind, LogReader
from rxcore.log_attribution import LogIndex
from rxcore.log_query import Cursor, Query, QueryError, page, rows, update_index

from .log_samples import JOBS, T0, write_sample


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("q") / "log"
    write_sample(path)
    return path


def keys(log: Path, query: Query) -> list[tuple[str, int]]:
    with LogReader(log) as reader:
        return [(r.entry.kind.name, r.entry.seq) for r in rows(reader, query)]


def test_no_filter_gives_events_sinks_and_states_in_order(log: Path) -> None:
    found = keys(log, Query())
    assert found[0] == ("STATE", 0)
    assert [k for k in found if k[0] == "EVENT"] == [("EVENT", s) for s in range(1, 13)]
    assert len(found) == 1 + 12 * 3


def test_a_job_filter_follows_request_ids_sinks_and_states(log: Path) -> None:
    found = keys(log, Query(jobs=frozenset({"j2"})))
    # j2: submitted at #2, its nodes at #5 and #8, done at #11; each with its sink and state.
    assert sorted({seq for _, seq in found}) == [2, 5, 8, 11]
    assert len(found) == 12


def test_a_user_filter_uses_the_job_owners(log: Path) -> None:
    alice = {seq for _, seq in keys(log, Query(users=frozenset({"alice"})))}
    assert alice == {1, 3, 4, 6, 7, 9, 10, 12}
    assert {seq for _, seq in keys(log, Query(users=frozenset({"nobody"})))} == set()


def test_kind_driver_and_seq_range(log: Path) -> None:
    found = keys(
        log, Query(kinds=frozenset({Kind.EVENT}), drivers=frozenset({"nodes"}), start=5, end=9)
    )
    assert found == [("EVENT", s) for s in range(5, 10)]
    assert keys(log, Query(kinds=frozenset({Kind.SNAPSHOT}))) != []


def test_time_range_uses_the_latest_stamp_at_or_before_a_record(log: Path) -> None:
    # j1 at T0, j2 at T0+10, j3 at T0+20; nothing later carries a time.
    events = frozenset({Kind.EVENT})
    assert keys(log, Query(kinds=events, until=T0 + 5)) == [("EVENT", 1)]
    assert keys(log, Query(kinds=events, since=T0 + 5, until=T0 + 15)) == [("EVENT", 2)]
    assert [s for _, s in keys(log, Query(kinds=events, since=T0 + 15))] == list(range(3, 13))
    assert keys(log, Query(kinds=events, since=T0 + 100)) == []


def test_the_index_knows_owners_and_times(log: Path) -> None:
    with LogReader(log) as reader:
        index = update_index(reader, LogIndex())
        assert index.owners == JOBS
        assert index.time_at(2) == T0 + 10 and index.time_at(12) == T0 + 20
        again = update_index(reader, index)  # nothing new: the same answers
        assert again.owners == JOBS and again.anchor_times[-1] == T0 + 20


@settings(max_examples=40, deadline=None)
@given(limit=st.integers(1, 15), user=st.sampled_from([None, "alice", "bob"]))
def test_pages_put_together_give_every_match_once(log: Path, limit: int, user: str | None) -> None:
    query = Query(users=frozenset({user}) if user else None)
    with LogReader(log) as reader:
        everything = [(r.entry.kind, r.entry.seq, r.entry.name) for r in rows(reader, query)]
        paged: list[tuple[Kind, int, str]] = []
        cursor: Cursor | None = None
        while True:
            found = page(reader, query, cursor=cursor, limit=limit)
            paged += [(r.entry.kind, r.entry.seq, r.entry.name) for r in found.rows]
            assert len(found.rows) <= limit
            if found.next is None:
                break
            cursor = Cursor.parse(str(found.next))
    assert paged == everything


def test_offset_skips_matches_and_bad_arguments_are_explained(log: Path) -> None:
    with LogReader(log) as reader:
        first = page(reader, Query(kinds=frozenset({Kind.EVENT})), offset=3, limit=2)
        assert [r.entry.seq for r in first.rows] == [4, 5]
        assert first.next == Cursor(6, 0)
        with pytest.raises(QueryError, match="limit"):
            page(reader, Query(), limit=0)
    with pytest.raises(QueryError, match=r"SEQ\.SKIP"):
        Cursor.parse("abc")
