"""What if one recorded event had not happened, or had carried another payload?

:func:`what_if` replays a recorded session in a sandbox with one event dropped or edited and
reports how the later sinks and states differ from the recording (the toggle of Redux DevTools,
but checked by running the real main). The sandbox is the replay's: drivers that feed the
recorded events and mute every sink, so nothing it does reaches a driver, a database or a
server. Events after the edited one are fed as they were recorded, even where the edit would
have changed what a driver answered: the what-if shows what main decides, not what the world
would have done.

Replay starts from the nearest snapshot at or before the edited event when main can be started
from a state: a main offers that by carrying a ``resume_from(state) -> main`` attribute (see
:func:`resumable`; :func:`state_resume` builds one for mains that keep all their state in
:func:`rxcore.state.with_state`). Otherwise it starts from the beginning of the log. Seqs before
the edit are checked too, on the way: if the replay already differs there, main is not
deterministic and the what-if stops and says so instead of blaming the edit.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import message
from .log import Entry, Kind, LogReader, apply_patch
from .log_diff import Change, changes
from .replay import ReplayDriver, load_main, replay_drivers
from .run import Main, Runtime
from .segments import SegmentReader
from .source import Source
from .state_diff import state_patch
from .what_if_diff import SeqDifference, SinkDifference, sink_differences
from .what_if_edit import DROPPED, Action, Edit, WhatIfError, edited_event
from .what_if_resume import RESUME_ATTR, RESUMED, Resume, resumable, state_resume

__all__ = [
    "Bounds",
    "Edit",
    "SeqDifference",
    "SinkDifference",
    "WhatIfError",
    "WhatIfReport",
    "resumable",
    "state_resume",
    "what_if",
]

_YIELD_EVERY = 512  # let the runtime drain its (muted) sink queue now and then
_FORM_ONLY_LIMIT = 8


@dataclass(frozen=True)
class Bounds:
    max_events: int = 200_000  # events fed to the sandbox, the catching-up ones included
    max_seconds: float = 30.0
    max_seqs: int = 20  # differing seqs listed before the what-if stops
    max_changes: int = 50  # state changes and sink differences listed per seq


@dataclass(frozen=True)
class WhatIfReport:
    seq: int
    action: Action
    replayed_from: int  # the snapshot's seq the sandbox started from (0: the beginning)
    events: int  # events fed to the sandbox
    compared_through: int  # the last seq compared with the recording
    first_difference: int | None
    differences: tuple[SeqDifference, ...]
    final_state: tuple[Change, ...]  # recording -> what-if, after ``compared_through``
    final_state_total: int
    complete: bool  # compared to the end of the log
    stopped: str | None  # why it stopped early, when it did
    fault: str | None  # main failed on the edited stream (a finding, not an error)
    elapsed_s: float


def what_if(
    log: str | os.PathLike[str] | LogReader,
    edit: Edit,
    main: Main | str | None = None,
    *,
    resume: Resume | None = None,
    bounds: Bounds | None = None,
) -> WhatIfReport:
    """Replay ``log`` with ``edit`` applied, in a sandbox, and compare with the recording."""
    if not isinstance(log, LogReader):
        with LogReader(log) as reader:
            return what_if(reader, edit, main, resume=resume, bounds=bounds)
    reader = log
    bounds = bounds or Bounds()
    last = reader.last_seq or 0
    if not 1 <= edit.seq <= last:
        raise WhatIfError(f"seq {edit.seq} is outside this log (events are #1..#{last})")
    driver, replacement = edited_event(reader, edit)
    if driver not in reader.header.drivers:
        raise WhatIfError(f"event #{edit.seq} names driver {driver!r}, not in the log's header")
    base = _main(reader, main)
    resume = resume or getattr(base, RESUME_ATTR, None)
    start = _start(reader, edit.seq, resume is not None)
    state: Any = None  # what the sandbox starts from: nothing, or the snapshot's state
    sandbox = base
    if start > 0:
        assert resume is not None
        state = message.from_plain(reader.plain_state_at(start))
        sandbox = resume(state)
    run = _Run(reader, edit, replacement, start, bounds, state)
    report: WhatIfReport = _run_sync(run.go(sandbox))
    return report


def _main(reader: LogReader, main: Main | str | None) -> Main:
    if callable(main):
        return main
    ref = main or reader.header.main
    if not ref:
        raise WhatIfError(
            f"{reader.path} does not name its main; pass it (e.g. package.module:main)"
        )
    return load_main(ref)


def _start(reader: LogReader, seq: int, can_resume: bool) -> int:
    """The seq whose state the sandbox starts from: the nearest snapshot before ``seq``."""
    if can_resume and seq > 1:
        with SegmentReader(reader.path) as segments:
            found = segments.last_indexed(Kind.SNAPSHOT, seq - 1)
        if found is not None and found[0].seq > 0:
            return found[0].seq
    if reader.starts_at_beginning():
        return 0
    raise WhatIfError(
        f"{reader.path} starts at seq {reader.first_seq} (retention dropped its beginning) and "
        "its main cannot start from a snapshot (it has no resume_from), so there is nothing "
        f"to replay event #{seq} from"
    )


class _Collector:
    """A recorder for the sandbox: what main sent, and the patches its state moved by (in
    the log's own form), per event fed."""

    def __init__(self, state: Any) -> None:
        self.latest = state  # the latest state object
        self.sinks: list[tuple[str, Any]] = []
        self.patch: list[dict[str, Any]] = []
        self.changed = False

    def begin(self, main_ref: str | None, sources: Mapping[str, type]) -> None:
        pass

    def event(self, seq: int, driver: str, event: Any) -> None:
        pass

    def sink(self, cause: int, driver: str, value: Any) -> None:
        self.sinks.append((driver, message.to_plain(value)))

    def state(self, cause: int, reducer: str, state: Any) -> None:
        self.patch.extend(state_patch(self.latest, state))
        self.latest = state
        self.changed = True

    def take(self) -> tuple[list[tuple[str, Any]], list[dict[str, Any]], bool]:
        out = (self.sinks, self.patch, self.changed)
        self.sinks, self.patch, self.changed = [], [], False
        return out

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Run:
    """Feeds the events and compares, seq by seq.

    Plain states cost a patch applied per change, so they are kept only while the what-if
    differs from the recording: while the two agree and their patches are the same, they stay
    the same without looking at either. Where the patches differ, both states are taken (the
    recording's from its nearest snapshot) and compared. Should patches keep differing in form
    only, the recording's state is kept from then on, which costs less than rebuilding it.
    """

    def __init__(
        self,
        reader: LogReader,
        edit: Edit,
        replacement: Any,
        start: int,
        bounds: Bounds,
        state: Any,
    ) -> None:
        self.reader, self.edit, self.replacement = reader, edit, replacement
        self.start, self.bounds = start, bounds
        self.collector = _Collector(state)
        self.keep = False  # keep recorded_state even while the two agree
        self.form_only = 0  # patches that differed while the states did not
        self.recorded_state: Any = None  # kept while ``tracking``
        self.replayed_state: Any = None  # kept while ``current`` is not empty
        self.current: list[Change] = []  # recording -> what-if, after the last seq compared
        self.differences: list[SeqDifference] = []
        self._recorded_sinks: list[tuple[str, Any]] = []  # of the seq being compared
        self._recorded_patch: list[dict[str, Any]] = []
        self.fed = 0
        self.compared = start
        self.stopped: str | None = None
        self.fault: str | None = None

    @property
    def tracking(self) -> bool:
        return self.keep or bool(self.current)

    async def go(self, sandbox: Main) -> WhatIfReport:
        began = time.monotonic()
        drivers = replay_drivers(self.reader.header.drivers)
        if self.start > 0:
            drivers[RESUMED] = ReplayDriver(Source)
        runtime = Runtime(sandbox, drivers, recorder=self.collector)
        if self.start > 0:
            drivers[RESUMED].subject.on_next(True)
        self.collector.take()  # start-up (and resume) output is not the recording's to match
        complete = True
        try:
            for seq, group in itertools.groupby(self._entries(), key=lambda e: e.seq):
                if self._over_budget(began):
                    complete = False
                    break
                event = self._absorb(group)
                if event is not None and not (seq == self.edit.seq and self.replacement is DROPPED):
                    value = self.replacement if seq == self.edit.seq else event.value
                    drivers[event.name].subject.on_next(value)
                    self.fed += 1
                    if self.fed % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                if runtime.faults:
                    self.fault = f"main failed on event #{seq}: {runtime.faults[0]}"
                    complete = False
                    break
                if not self._compare(seq):
                    complete = False
                    break
        finally:
            runtime.dispose()
        return self._report(complete, time.monotonic() - began)

    def _entries(self) -> Iterator[Entry]:
        wanted = (Kind.EVENT, Kind.SINK, Kind.STATE)
        return (
            e
            for e in self.reader.entries(self.start + 1)
            if e.seq > self.start and e.kind in wanted
        )

    def _absorb(self, group: Iterator[Entry]) -> Entry | None:
        """Take in one seq's recorded records; returns its event."""
        event = None
        self._recorded_sinks, self._recorded_patch = [], []
        for entry in group:
            if entry.kind == Kind.EVENT:
                event = entry
                if entry.name not in self.reader.header.drivers:
                    raise WhatIfError(
                        f"event #{entry.seq} names driver {entry.name!r}, not in the header"
                    )
            elif entry.kind == Kind.SINK:
                self._recorded_sinks.append((entry.name, message.to_plain(entry.value)))
            else:
                self._recorded_patch.extend(entry.value)
                if self.tracking:
                    self.recorded_state = apply_patch(self.recorded_state, entry.value)
        return event

    def _compare(self, seq: int) -> bool:
        """Compare one seq; False to stop."""
        sinks, patch, changed = self.collector.take()
        self.compared = seq
        recorded_sinks, recorded_patch = self._recorded_sinks, self._recorded_patch
        sink_diff: tuple[SinkDifference, ...] = ()
        if sinks != recorded_sinks:
            sink_diff = sink_differences(recorded_sinks, sinks, self.bounds.max_changes)
        state_changed = False
        if (changed or recorded_patch) and (self.current or patch != recorded_patch):
            if not self.tracking:
                self.recorded_state = self.reader.plain_state_at(seq)
            if self.current:
                self.replayed_state = apply_patch(self.replayed_state, patch)
            else:
                self.replayed_state = message.to_plain(self.collector.latest)
            now = changes(self.recorded_state, self.replayed_state)
            if not now and not self.current:
                self.form_only += 1
                self.keep = self.form_only >= _FORM_ONLY_LIMIT
            state_changed = now != self.current
            self.current = now
            if not self.tracking:
                self.recorded_state = self.replayed_state = None
        if not (sink_diff or state_changed):
            return True
        if seq < self.edit.seq:
            self.stopped = (
                f"the replay differed from the recording at #{seq}, before the edited event: "
                "main is not deterministic (run verify), so differences cannot be put down "
                "to the edit"
            )
            return False
        limit = self.bounds.max_changes
        self.differences.append(
            SeqDifference(
                seq, sink_diff, tuple(self.current[:limit]), len(self.current), state_changed
            )
        )
        if len(self.differences) >= self.bounds.max_seqs:
            self.stopped = f"listed {self.bounds.max_seqs} differing seqs (the limit)"
            return False
        return True

    def _over_budget(self, began: float) -> bool:
        if self.fed >= self.bounds.max_events:
            self.stopped = f"fed {self.fed} events (the limit); compared through #{self.compared}"
            return True
        if time.monotonic() - began > self.bounds.max_seconds:
            self.stopped = f"ran {self.bounds.max_seconds:g} s (the limit)"
            return True
        return False

    def _report(self, complete: bool, elapsed: float) -> WhatIfReport:
        first = self.differences[0].seq if self.differences else None
        limit = self.bounds.max_changes
        return WhatIfReport(
            seq=self.edit.seq,
            action=self.edit.action,
            replayed_from=self.start,
            events=self.fed,
            compared_through=self.compared,
            first_difference=first,
            differences=tuple(self.differences),
            final_state=tuple(self.current[:limit]),
            final_state_total=len(self.current),
            complete=complete and self.stopped is None,
            stopped=self.stopped,
            fault=self.fault,
            elapsed_s=round(elapsed, 4),
        )


def _run_sync(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    raise RuntimeError("what_if() runs its own loop; call it from synchronous code or a thread")
