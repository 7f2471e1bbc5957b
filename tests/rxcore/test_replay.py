"""Recording and replay: the replay of any recording yields identical sinks and states."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rxcore import run
from rxcore.log import Kind, LogReader, LogWriter
from rxcore.replay import verify
from rxcore.testing import FakeDriver

from . import replay_app
from .replay_app import Input


class Tee:
    """Forwards to the log writer and keeps the live states, to check state_at against."""

    def __init__(self, writer: LogWriter) -> None:
        self.writer = writer
        self.states: list[tuple[int, Any]] = []

    def begin(self, main_ref: Any, sources: Any) -> None:
        self.writer.begin(main_ref, sources)

    def event(self, seq: int, driver: str, event: Any) -> None:
        self.writer.event(seq, driver, event)

    def sink(self, cause: int, driver: str, value: Any) -> None:
        self.writer.sink(cause, driver, value)

    def state(self, cause: int, reducer: str, state: Any) -> None:
        self.states.append((cause, state))
        self.writer.state(cause, reducer, state)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def record(path: Path, events: list[Input], main: Any = replay_app.main, **log: Any) -> Tee:
    async def scenario() -> Tee:
        source, output = FakeDriver(), FakeDriver()
        tee = Tee(LogWriter(path, **log))
        runtime = run(
            main,
            {"input": source, "output": output},
            recorder=tee,
            main_ref="tests.rxcore.replay_app:main",
        )
        for event in events:
            source.emit(event)
            await asyncio.sleep(0)
        runtime.dispose()
        return tee

    return asyncio.run(scenario())


inputs = st.builds(
    Input,
    key=st.sampled_from(["a", "b", "c"]),
    n=st.integers(-50, 50),
    token=st.sampled_from(["", "tok-SECRET-1"]),
    scope=st.sampled_from([(), ("kid",), ("other",)]),
)


@settings(max_examples=40, deadline=None)
@given(events=st.lists(inputs, max_size=40), snapshot_every=st.integers(1, 7))
def test_replay_of_any_recording_is_identical(events: list[Input], snapshot_every: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "session"
        tee = record(log, events, snapshot_every=snapshot_every, max_segment_bytes=2048)
        report = verify(log)
        assert report.ok, str(report)
        assert report.events == len(events)
        assert report.states == len(tee.states)
        with LogReader(log) as reader:
            for seq in range(len(events) + 1):
                live = [s for cause, s in tee.states if cause <= seq][-1]
                assert reader.state_at(seq) == live


def test_secrets_never_reach_the_disk(tmp_path: Path) -> None:
    record(tmp_path / "s", [Input(key="a", n=3, token="tok-SECRET-1")])
    for file in (tmp_path / "s").iterdir():
        assert b"tok-SECRET-1" not in file.read_bytes()
    assert verify(tmp_path / "s").ok


def test_verify_catches_a_nondeterministic_main_at_the_right_event(tmp_path: Path) -> None:
    events = [Input(key="a", n=i) for i in range(5)]
    record(tmp_path / "s", events, main=replay_app.impure_app)
    report = verify(tmp_path / "s", replay_app.impure_app)
    assert not report.ok
    assert report.divergence is not None
    assert report.divergence.cause == 1 and report.divergence.what == "sink"
    assert "request_id" in report.divergence.detail


def test_verify_reports_missing_output(tmp_path: Path) -> None:
    record(tmp_path / "s", [Input(key="a", n=3)])

    def silent(sources: dict[str, Any]) -> dict[str, Any]:
        return {}

    report = verify(tmp_path / "s", silent)
    assert not report.ok and report.divergence is not None
    assert report.divergence.what == "missing"


def test_log_records_events_sinks_and_states_in_order(tmp_path: Path) -> None:
    record(tmp_path / "s", [Input(key="a", n=3), Input(key="b", n=1, scope=("kid",))])
    with LogReader(tmp_path / "s") as reader:
        kinds = [(e.kind, e.seq, e.name) for e in reader.entries() if e.kind != Kind.HEADER]
    assert kinds == [
        (Kind.STATE, 0, "init"),
        (Kind.EVENT, 1, "input"),
        (Kind.SINK, 1, "output"),
        (Kind.STATE, 1, "add"),
        (Kind.EVENT, 2, "input"),
        (Kind.SINK, 2, "output"),
        (Kind.STATE, 2, "child/seen"),
    ]
