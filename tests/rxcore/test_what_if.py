"""What-if: drop or edit one recorded event, replay in a sandbox, report what differs."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxcore.log import Kind, LogReader
from rxcore.log_diff import changes
from rxcore.message import to_plain
from rxcore.what_if import Bounds, Edit, WhatIfError, what_if

from . import replay_app, what_if_app
from .replay_app import Input
from .test_replay import inputs, record


def final_state(path: Path) -> Any:
    with LogReader(path) as reader:
        return reader.plain_state_at(reader.last_seq or 0)


def sinks_at(path: Path, seq: int) -> list[tuple[str, Any]]:
    with LogReader(path) as reader:
        return [
            (e.name, to_plain(e.value)) for e in reader.entries(seq, seq) if e.kind == Kind.SINK
        ]


EVENTS = [Input(key="ab"[i % 2], n=i, scope=("kid",) if i % 4 == 1 else ()) for i in range(1, 21)]


@pytest.mark.parametrize("main", [replay_app.main, what_if_app.main], ids=["start", "snapshot"])
def test_an_unchanged_event_changes_nothing(tmp_path: Path, main: Any) -> None:
    record(tmp_path / "s", EVENTS, snapshot_every=4)
    with LogReader(tmp_path / "s") as reader:
        plain = next(e.value for e in reader.entries(12, 12, decode=False) if e.kind == Kind.EVENT)
    report = what_if(tmp_path / "s", Edit(12, "edit", plain), main)
    assert report.complete and report.first_difference is None and not report.differences
    assert report.compared_through == 20 and report.final_state_total == 0
    if main is what_if_app.main:
        assert 0 < report.replayed_from < 12 and report.events == 20 - report.replayed_from
    else:
        assert report.replayed_from == 0 and report.events == 20


@settings(max_examples=25, deadline=None)
@given(events=st.lists(inputs, min_size=1, max_size=25), data=st.data())
def test_dropping_an_event_matches_a_recording_without_it(events: list[Input], data: Any) -> None:
    seq = data.draw(st.integers(1, len(events)))
    with tempfile.TemporaryDirectory() as tmp:
        full, without = Path(tmp) / "full", Path(tmp) / "without"
        record(full, events, snapshot_every=3)
        record(without, events[: seq - 1] + events[seq:], snapshot_every=3)
        report = what_if(full, Edit(seq, "drop"), what_if_app.main, bounds=Bounds(max_seqs=100))
        assert report.complete, report.stopped
        assert list(report.final_state) == changes(final_state(full), final_state(without))
        # The app's sinks depend on each event alone: only the dropped one's go missing.
        dropped = sinks_at(full, seq)
        found = {d.seq: d for d in report.differences if d.sinks}
        if dropped:
            assert list(found) == [seq] and report.first_difference == seq
            assert [(s.op, s.driver, s.recorded) for s in found[seq].sinks] == [
                ("removed", driver, value) for driver, value in dropped
            ]
        else:
            assert not found
        same = what_if(full, Edit(seq, "drop"), replay_app.main, bounds=Bounds(max_seqs=100))
        assert (same.differences, same.final_state) == (report.differences, report.final_state)


def test_a_partial_edit_changes_one_field_and_shows_the_new_sink(tmp_path: Path) -> None:
    record(tmp_path / "s", EVENTS, snapshot_every=5)
    report = what_if(tmp_path / "s", Edit(8, "edit", {"n": 99}), what_if_app.main)
    assert report.first_difference == 8 and report.complete
    first = report.differences[0]
    assert [(s.op, s.replayed["request_id"]) for s in first.sinks] == [("added", "e99")]
    with LogReader(tmp_path / "s") as reader:
        at8 = reader.plain_state_at(8)
    assert {c.path: (c.before, c.after) for c in first.state} == {
        "/sum": (at8["sum"], at8["sum"] - 8 + 99),
        "/by_key/a": (at8["by_key"]["a"], at8["by_key"]["a"] - 8 + 99),
        "/last": (8, 99),
    }
    # Later events add to the sum as recorded, so the difference stays 91 to the end.
    final = {c.path: (c.before, c.after) for c in report.final_state}
    assert final["/sum"][1] - final["/sum"][0] == 91 and "/last" not in final


def test_bad_requests_are_named(tmp_path: Path) -> None:
    record(tmp_path / "s", EVENTS[:5])
    log = tmp_path / "s"
    with pytest.raises(WhatIfError, match="outside this log"):
        what_if(log, Edit(6, "drop"), replay_app.main)
    with pytest.raises(WhatIfError, match="needs a payload"):
        what_if(log, Edit(2, "edit"), replay_app.main)
    with pytest.raises(WhatIfError, match="not a valid event"):
        what_if(log, Edit(2, "edit", {"no_such_field": 1}), replay_app.main)
    with pytest.raises(WhatIfError, match="neither in the recorded"):
        what_if(log, Edit(2, "edit", {"$t": "antigravity:Thing", "n": 1}), replay_app.main)
    assert "antigravity" not in sys.modules
    with pytest.raises(WhatIfError, match="not a message type"):  # loaded, but not a message
        what_if(log, Edit(2, "edit", {"$t": "subprocess:Popen", "args": ["true"]}), replay_app.main)


def test_an_edit_that_breaks_main_is_reported_as_a_fault(tmp_path: Path) -> None:
    record(tmp_path / "s", EVENTS[:6])
    report = what_if(tmp_path / "s", Edit(3, "edit", {"n": "three"}), replay_app.main)
    assert report.fault is not None and "#3" in report.fault and not report.complete


def test_a_nondeterministic_main_is_not_blamed_on_the_edit(tmp_path: Path) -> None:
    record(tmp_path / "s", EVENTS[:6], main=replay_app.impure_app)
    report = what_if(tmp_path / "s", Edit(4, "drop"), replay_app.impure_app)
    assert not report.complete and report.stopped is not None
    assert "#1, before the edited event" in report.stopped and not report.differences


def test_bounds_stop_the_run_and_say_where(tmp_path: Path) -> None:
    record(tmp_path / "s", EVENTS)
    report = what_if(tmp_path / "s", Edit(2, "drop"), replay_app.main, bounds=Bounds(max_events=5))
    assert not report.complete and report.events == 5 and report.compared_through == 6
    assert report.stopped is not None and "limit" in report.stopped
    listed = what_if(tmp_path / "s", Edit(2, "drop"), replay_app.main, bounds=Bounds(max_seqs=2))
    assert len(listed.differences) == 2 and not listed.complete
