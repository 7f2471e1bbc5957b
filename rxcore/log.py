"""The session log: every source event, sink emission and state change, on disk.

A log is a directory of append-only segment files (:mod:`rxcore.segments`) holding msgpack
records of five kinds:

- ``HEADER``: format version, the main's import path, each driver's source class; repeated at
  the start of every segment so retention can drop old segments without losing it;
- ``EVENT`` (seq, driver, event): written before main sees the event;
- ``SINK`` (cause seq, driver, value): what main asked a driver to do;
- ``STATE`` (cause seq, reducer name, JSON patch from the previous state, change number);
- ``SNAPSHOT`` (seq, change number, whole state): every ``snapshot_every`` changes and first
  thing in each segment; indexed, so ``state_at`` starts from the nearest one.

Values are written redacted (:func:`rxcore.message.sensitive` fields never reach the disk).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import jsonpatch
import msgpack

from . import message
from .segments import Record, Retention, SegmentReader, SegmentWriter
from .state_diff import state_patch

FORMAT = "rxgen.log"
VERSION = 1


class Kind(IntEnum):
    HEADER = 1
    EVENT = 2
    SINK = 3
    STATE = 4
    SNAPSHOT = 5


_KINDS = frozenset(int(k) for k in Kind)
# Plain ints for the hot path (IntEnum members are slower to pass to struct.pack).
_EVENT = int(Kind.EVENT)
_SINK = int(Kind.SINK)


def diff(before: Any, after: Any) -> list[dict[str, Any]]:
    """A JSON patch (RFC 6902) turning plain ``before`` into plain ``after``."""
    if isinstance(before, dict | list) and type(before) is type(after):
        ops: list[dict[str, Any]] = jsonpatch.make_patch(before, after).patch
        return ops
    return [{"op": "replace", "path": "", "value": after}]


def apply_patch(state: Any, ops: list[dict[str, Any]]) -> Any:
    if len(ops) == 1 and ops[0]["path"] == "" and ops[0]["op"] == "replace":
        return ops[0]["value"]
    return jsonpatch.apply_patch(state, ops, in_place=True)


class LogExists(FileExistsError):
    pass


class LogWriter:
    """A :class:`rxcore.recorder.Recorder` that writes the session to a log directory.

    ``after_roll`` is called each time a new segment begins (after its header and snapshot).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention: Retention | None = None,
        max_segment_bytes: int = 64 << 20,
        snapshot_every: int = 1000,
        fsync: bool = False,
        meta: Mapping[str, Any] | None = None,
        after_roll: Callable[[], None] | None = None,
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and any(self.path.glob("*.seg")):
            raise LogExists(
                f"{self.path} already holds a recorded session; a log directory records one "
                "session, so pass a new path (or delete the old log)"
            )
        self._snapshot_every = snapshot_every
        self._after_roll = after_roll
        self._meta = dict(meta or {})
        self._header: bytes | None = None
        self._packer = message.packer(redact=True)
        self._state: Any = None
        self._changes = 0
        self._segments = SegmentWriter(
            self.path,
            max_segment_bytes=max_segment_bytes,
            retention=retention,
            fsync=fsync,
            on_roll=self._on_roll,
        )
        # Bound once: event() and sink() run for every message.
        self._append = self._segments.append
        self._pack = self._packer.pack
        self._encoder = message.encoder_lookup(redact=True)
        # Event and sink payloads are msgpack (driver, message): the array header and the
        # driver's name are the same bytes every time, so they are packed once per driver.
        self._prefixes: dict[str, bytes] = {}

    # -- Recorder ----------------------------------------------------------------------------
    def begin(self, main_ref: str | None, sources: Mapping[str, type]) -> None:
        self._header = msgpack.packb(
            {
                "format": FORMAT,
                "version": VERSION,
                "main": main_ref,
                "drivers": {name: message.type_path(cls) for name, cls in sources.items()},
                "created": time.time(),
                "meta": self._meta,
            }
        )
        self._append(Kind.HEADER, 0, self._header)

    def event(self, seq: int, driver: str, event: Any) -> None:
        prefix = self._prefixes.get(driver) or self._prefix(driver)
        encode = self._encoder(type(event))
        self._append(_EVENT, seq, prefix + self._pack(event if encode is None else encode(event)))

    def sink(self, cause: int, driver: str, value: Any) -> None:
        prefix = self._prefixes.get(driver) or self._prefix(driver)
        encode = self._encoder(type(value))
        self._append(_SINK, cause, prefix + self._pack(value if encode is None else encode(value)))

    def state(self, cause: int, reducer: str, state: Any) -> None:
        if self._changes:
            patch = state_patch(self._state, state)
        else:
            patch = [{"op": "replace", "path": "", "value": message.to_plain(state)}]
        self._state = state
        self._changes += 1
        self._append(Kind.STATE, cause, self._packer.pack((reducer, patch, self._changes)))
        if self._changes % self._snapshot_every == 0:
            self._snapshot(cause)

    def flush(self) -> None:
        self._segments.flush()

    def close(self) -> None:
        self._segments.close()

    def _prefix(self, driver: str) -> bytes:
        prefix = self._prefixes[driver] = b"\x92" + self._pack(driver)
        return prefix

    # -- snapshots ---------------------------------------------------------------------------
    def _snapshot(self, seq: int) -> None:
        payload = self._packer.pack((self._changes, self._state))
        self._append(Kind.SNAPSHOT, seq, payload, indexed=True)

    def _on_roll(self, segments: SegmentWriter) -> None:
        # Each segment restates the header and the state, so it can be read without the
        # segments before it (retention may have deleted them).
        seq = segments.last_seq or 0
        if self._header is not None:
            segments.append(Kind.HEADER, seq, self._header)
        if self._changes:
            payload = self._packer.pack((self._changes, self._state))
            segments.append(Kind.SNAPSHOT, seq, payload, indexed=True)
        if self._after_roll is not None:
            self._after_roll()


@dataclass(frozen=True)
class Header:
    main: str | None
    drivers: dict[str, str]
    created: float
    meta: dict[str, Any]
    version: int


@dataclass(frozen=True)
class Entry:
    """One decoded log record. ``name`` is the driver (events, sinks) or reducer (states)."""

    kind: Kind
    seq: int
    name: str
    value: Any
    change: int = 0


class LogError(ValueError):
    pass


class LogReader:
    """Read a recorded session: entries in order, events for replay, the state at any seq."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._segments = SegmentReader(self.path)
        self.header = self._read_header()

    def _read_header(self) -> Header:
        for record in self._segments.records():
            if record.kind == Kind.HEADER:
                data = msgpack.unpackb(record.payload, strict_map_key=False)
                if data.get("format") != FORMAT:
                    raise LogError(f"{self.path} is not an rxgen log (format {data.get('format')})")
                if data.get("version", 0) > VERSION:
                    raise LogError(
                        f"{self.path} was written by a newer rxgen (log version "
                        f"{data['version']}, this one reads up to {VERSION}); upgrade rxgen"
                    )
                return Header(
                    main=data.get("main"),
                    drivers=dict(data.get("drivers", {})),
                    created=float(data.get("created", 0.0)),
                    meta=dict(data.get("meta", {})),
                    version=int(data["version"]),
                )
            break
        raise LogError(f"{self.path} has no header record; it is empty or not an rxgen log")

    @property
    def first_seq(self) -> int | None:
        return self._segments.first_seq

    @property
    def last_seq(self) -> int | None:
        return self._segments.last_seq

    def starts_at_beginning(self) -> bool:
        """False when retention dropped the oldest segments (replay needs the beginning)."""
        first = self._segments.first_seq
        return first is None or first == 0

    def entries(
        self, start: int | None = None, end: int | None = None, *, decode: bool = True
    ) -> Iterator[Entry]:
        """Records with seq in [start, end], in order; ``decode=False`` keeps values plain."""
        unpack = message.unpack if decode else _unpack_plain
        for record in self._segments.records(start, end):
            kind = Kind(record.kind)
            if kind in (Kind.EVENT, Kind.SINK):
                name, value = unpack(record.payload)
                yield Entry(kind, record.seq, name, value)
            elif kind == Kind.STATE:
                reducer, patch, change = _unpack_plain(record.payload)
                yield Entry(kind, record.seq, reducer, patch, change)
            elif kind == Kind.SNAPSHOT:
                change, state = _unpack_plain(record.payload)
                yield Entry(kind, record.seq, "", state, change)
            elif kind == Kind.HEADER:
                yield Entry(kind, record.seq, "", _unpack_plain(record.payload))

    def records(self, start: int | None = None, end: int | None = None) -> Iterator[Record]:
        """The raw records (kind, seq, msgpack payload) with seq in [start, end], in order."""
        return self._segments.records(start, end)

    @property
    def segment_paths(self) -> list[Path]:
        """The segment files (``*.seg``; each has its ``.idx`` beside it), oldest first."""
        return self._segments.segments

    def count_kinds(self) -> dict[Kind, int]:
        """Records per kind, counted from record headers (fast: payloads are not read)."""
        return {Kind(k): n for k, n in self._segments.count_kinds().items() if k in _KINDS}

    def events(self) -> Iterator[Entry]:
        return (e for e in self.entries() if e.kind == Kind.EVENT)

    def plain_state_at(self, seq: int) -> Any:
        """The state (plain maps and lists) after every change caused by events up to ``seq``."""
        found = self._segments.last_indexed(Kind.SNAPSHOT, seq)
        if found is None:
            if not self.starts_at_beginning():
                raise LogError(
                    f"no snapshot at or before seq {seq}: retention dropped the start of this log"
                )
            state: Any = None
            records = self._segments.records()
        else:
            snapshot, position = found
            state = _unpack_plain(snapshot.payload)[1]
            records = self._segments.records_after(position)
        for record in records:
            if record.seq > seq:
                break
            if record.kind == Kind.STATE:
                patch = _unpack_plain(record.payload)[1]
                state = apply_patch(state, patch)
        return state

    def state_at(self, seq: int) -> Any:
        """The state after event ``seq``, rebuilt as the application's own types."""
        return message.from_plain(self.plain_state_at(seq))

    def close(self) -> None:
        self._segments.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unpack_plain(payload: bytes) -> Any:
    return msgpack.unpackb(payload, use_list=True, strict_map_key=False)
