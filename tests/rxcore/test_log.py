"""The log on disk: torn tails, retention with snapshots, refusing to overwrite a session."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxcore.log import Kind, LogExists, LogReader, LogWriter
from rxcore.segments import Retention

from .replay_app import Input
from .test_replay import record


@pytest.fixture(scope="module")
def recorded() -> Path:
    path = Path(tempfile.mkdtemp()) / "s"
    record(path, [Input(key="k", n=i) for i in range(60)], snapshot_every=5)
    yield path
    shutil.rmtree(path.parent)


@settings(max_examples=60, deadline=None)
@given(cut=st.floats(0, 1))
def test_a_log_cut_at_any_byte_reads_as_a_prefix_of_its_events(recorded: Path, cut: float) -> None:
    with LogReader(recorded) as reader:
        full = [(e.seq, e.value) for e in reader.events()]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "s"
        shutil.copytree(recorded, copy)
        (segment,) = copy.glob("*.seg")
        data = segment.read_bytes()
        segment.write_bytes(data[: int(len(data) * cut)])
        try:
            reader = LogReader(copy)
        except ValueError as exc:  # cut inside the header: nothing left to read
            assert "no header" in str(exc) or "not an rxgen log" in str(exc)
            return
        with reader:
            events = [(e.seq, e.value) for e in reader.events()]
    assert events == full[: len(events)]


def test_retention_drops_old_segments_and_state_is_still_readable(tmp_path: Path) -> None:
    events = [Input(key="k", n=i) for i in range(300)]
    record(
        tmp_path / "s",
        events,
        snapshot_every=1000,
        max_segment_bytes=1500,
        retention=Retention(max_bytes=6000),
    )
    with LogReader(tmp_path / "s") as reader:
        assert not reader.starts_at_beginning()
        first = reader.first_seq
        assert first is not None and first > 0
        last = reader.last_seq
        assert last == 300
        state = reader.state_at(last)
        assert state["sum"] == sum(range(300)) and state["last"] == 299
        kinds = {e.kind for e in reader.entries()}
        assert Kind.HEADER in kinds and reader.header.main == "tests.rxcore.replay_app:main"


def test_a_log_directory_records_one_session(tmp_path: Path) -> None:
    record(tmp_path / "s", [Input(key="k", n=1)])
    with pytest.raises(LogExists, match="already holds a recorded session"):
        LogWriter(tmp_path / "s")
