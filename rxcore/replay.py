"""Replay a recorded session through main, and verify that it does exactly what it did.

Replay gives main the recorded events through sources of the same classes the live drivers
had (so isolation behaves the same) while every effect is muted: sinks go nowhere. Because main
is a pure function of its sources, its sink emissions and state changes must come out identical
to the recording; :func:`verify` checks each one as it is produced and stops at the first
divergence, reporting the event that caused it, the sink or reducer, and both values.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reactivex import Observable
from reactivex.subject import Subject

from . import message
from .log import Entry, Kind, LogError, LogReader, apply_patch, diff
from .run import Main, Runtime
from .source import Source


def load_main(ref: str) -> Main:
    """Import ``module:attr`` (the form a log header records)."""
    module_name, _, attr = ref.rpartition(":")
    if not module_name or not attr:
        raise LogError(
            f"main reference {ref!r} must look like 'package.module:main' or 'path/file.py:main'"
        )
    try:
        obj: Any = _import(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, OSError) as exc:
        raise LogError(f"cannot load main {ref!r}: {exc}") from exc
    if not callable(obj):
        raise LogError(f"{ref} is not callable, so it cannot be a main")
    main: Main = obj
    return main


def _import(module_name: str) -> Any:
    if not module_name.endswith(".py"):
        return importlib.import_module(module_name)
    path = os.path.abspath(module_name)
    spec = importlib.util.spec_from_file_location(f"rxgen_main_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ReplayDriver:
    """A muted driver: its source is fed from the log, its sink is ignored."""

    def __init__(self, source_class: type[Source]) -> None:
        self.subject: Subject[Any] = Subject()
        self._source_class = source_class

    def __call__(self, sink: Observable[Any]) -> Source:
        return self._source_class(self.subject)

    def dispose(self) -> None:
        self.subject.on_completed()


def replay_drivers(header_drivers: Mapping[str, str]) -> dict[str, ReplayDriver]:
    drivers: dict[str, ReplayDriver] = {}
    for name, path in header_drivers.items():
        try:
            cls = message.resolve_type(path)
        except message.DecodeError:
            cls = Source
        if not (isinstance(cls, type) and issubclass(cls, Source)):
            cls = Source
        drivers[name] = ReplayDriver(cls)
    return drivers


@dataclass(frozen=True)
class Divergence:
    """Where the replay first differed from the recording."""

    what: str  # "sink", "state", "missing", "extra", "event"
    cause: int  # seq of the event being handled (0: start-up)
    name: str  # sink's driver or reducer
    index: int  # the how-many-th recorded sink/state record this was (from 0)
    recorded: Any
    replayed: Any
    detail: str

    def __str__(self) -> str:
        where = "at start-up" if self.cause == 0 else f"while handling event #{self.cause}"
        return f"{self.what} diverged {where} ({self.name}, record {self.index}): {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    events: int
    sinks: int
    states: int
    divergence: Divergence | None

    def __str__(self) -> str:
        counts = f"{self.events} events, {self.sinks} sink emissions, {self.states} states"
        if self.ok:
            return f"OK: replay matches the recording ({counts})"
        return f"DIVERGED after {counts} matched\n{self.divergence}"


class _Comparer:
    """A recorder that checks each replayed sink/state record against the recorded one."""

    def __init__(self, expected: Iterator[Entry]) -> None:
        self._expected = expected
        self._recorded_state: Any = None
        self._replayed_state: Any = None
        self.sinks = 0
        self.states = 0
        self.divergence: Divergence | None = None

    def begin(self, main_ref: str | None, sources: Mapping[str, type]) -> None:
        pass

    def event(self, seq: int, driver: str, event: Any) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _next(self, what: str, cause: int, name: str, replayed: Any) -> Entry | None:
        entry = next(self._expected, None)
        if entry is None:
            self._fail("extra", cause, name, None, replayed, f"replay produced an extra {what}")
        return entry

    def _fail(
        self, what: str, cause: int, name: str, recorded: Any, replayed: Any, detail: str
    ) -> None:
        index = self.sinks + self.states
        self.divergence = Divergence(what, cause, name, index, recorded, replayed, detail)

    def sink(self, cause: int, driver: str, value: Any) -> None:
        if self.divergence is not None:
            return
        replayed = message.to_plain(value)
        entry = self._next("sink emission", cause, driver, replayed)
        if entry is None:
            return
        if entry.kind != Kind.SINK:
            return self._fail(
                "sink",
                cause,
                driver,
                _describe(entry),
                replayed,
                f"replay sent {type(value).__name__} to {driver!r} where the recording has "
                f"{_describe(entry)}",
            )
        recorded = entry.value
        if (entry.seq, entry.name) != (cause, driver) or recorded != replayed:
            return self._fail(
                "sink",
                cause,
                driver,
                recorded,
                replayed,
                f"recorded {entry.name!r} <- {_short(recorded)} (cause #{entry.seq}); "
                f"replayed {driver!r} <- {_short(replayed)} (cause #{cause})",
            )
        self.sinks += 1

    def state(self, cause: int, reducer: str, state: Any) -> None:
        if self.divergence is not None:
            return
        replayed = message.to_plain(state)
        entry = self._next("state change", cause, reducer, replayed)
        if entry is None:
            return
        if entry.kind != Kind.STATE:
            return self._fail(
                "state",
                cause,
                reducer,
                _describe(entry),
                replayed,
                f"replay applied reducer {reducer!r} where the recording has {_describe(entry)}",
            )
        self._recorded_state = apply_patch(self._recorded_state, entry.value)
        if (entry.seq, entry.name) != (cause, reducer) or self._recorded_state != replayed:
            first = diff(self._recorded_state, replayed)[:1]
            path = first[0]["path"] if first else ""
            return self._fail(
                "state",
                cause,
                reducer,
                self._recorded_state,
                replayed,
                f"recorded reducer {entry.name!r} (cause #{entry.seq}), replayed {reducer!r} "
                f"(cause #{cause}); first difference at {path or '/'}: "
                f"recorded {_short(_at(self._recorded_state, path))}, "
                f"replayed {_short(_at(replayed, path))}",
            )
        self.states += 1

    def finish(self, last_cause: int) -> None:
        if self.divergence is not None:
            return
        entry = next(self._expected, None)
        if entry is not None:
            self.divergence = Divergence(
                "missing",
                last_cause,
                entry.name,
                self.sinks + self.states,
                entry.value,
                None,
                f"the recording has {_describe(entry)} that the replay never produced",
            )


def _describe(entry: Entry) -> str:
    if entry.kind == Kind.SINK:
        return f"a sink emission to {entry.name!r} (cause #{entry.seq})"
    return f"state change by reducer {entry.name!r} (cause #{entry.seq})"


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _at(doc: Any, pointer: str) -> Any:
    for part in [p for p in pointer.split("/")[1:]]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def _outputs(reader: LogReader) -> Iterator[Entry]:
    return (
        Entry(e.kind, e.seq, e.name, message.to_plain(e.value) if e.kind == Kind.SINK else e.value)
        for e in reader.entries()
        if e.kind in (Kind.SINK, Kind.STATE)
    )


async def _replay(reader: LogReader, main: Main, recorder: Any) -> int:
    drivers = replay_drivers(reader.header.drivers)
    runtime = Runtime(main, drivers, recorder=recorder)
    count = 0
    try:
        for entry in reader.events():
            driver = drivers.get(entry.name)
            if driver is None:
                raise LogError(f"event #{entry.seq} names driver {entry.name!r}, not in the header")
            driver.subject.on_next(entry.value)
            count += 1
            if runtime.seq != entry.seq:
                raise LogError(
                    f"event numbering differs at #{entry.seq}: the replay counted {runtime.seq} "
                    "(events are missing from the log)"
                )
            if runtime.faults:
                raise runtime.faults[0]
            if getattr(recorder, "divergence", None) is not None:
                break
        await asyncio.sleep(0)
    finally:
        runtime.dispose()
    return count


def verify(log: str | LogReader, main: Main | str | None = None) -> VerifyReport:
    """Replay ``log`` through ``main`` (default: the one its header names) and compare."""
    reader = log if isinstance(log, LogReader) else LogReader(log)
    if not reader.starts_at_beginning():
        raise LogError(
            f"{reader.path} starts at seq {reader.first_seq}: retention dropped its beginning, "
            "and replay must start from the first event"
        )
    resolved = _resolve_main(reader, main)
    comparer = _Comparer(_outputs(reader))
    events = _run_sync(_replay(reader, resolved, comparer))
    last = reader.last_seq or 0
    comparer.finish(last)
    divergence = comparer.divergence
    return VerifyReport(divergence is None, events, comparer.sinks, comparer.states, divergence)


def _resolve_main(reader: LogReader, main: Main | str | None) -> Main:
    if callable(main):
        return main
    ref = main or reader.header.main
    if not ref:
        raise LogError(
            f"{reader.path} does not name its main (it was not importable when recorded); "
            "pass it explicitly, e.g. --main package.module:main"
        )
    return load_main(ref)


def _run_sync(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    raise RuntimeError("verify() runs its own loop; call it from synchronous code or a thread")


def replayed_sinks(
    log: str | LogReader, main: Main | str | None = None
) -> list[tuple[int, str, Any]]:
    """Every sink emission the replay produces (cause, driver, plain value), for tools."""
    reader = log if isinstance(log, LogReader) else LogReader(log)
    collected: list[tuple[int, str, Any]] = []

    class _Collect(_Comparer):
        def sink(self, cause: int, driver: str, value: Any) -> None:
            collected.append((cause, driver, message.to_plain(value)))

        def state(self, cause: int, reducer: str, state: Any) -> None:
            pass

    _run_sync(_replay(reader, _resolve_main(reader, main), _Collect(iter(()))))
    return collected
