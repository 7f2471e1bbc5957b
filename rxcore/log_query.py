"""Filtering and paging a recorded log: by kind, driver, job, user, seq range and time range.

A page is read from a cursor (``"SEQ.SKIP"``: start at records of ``SEQ`` and skip the first
``SKIP`` matches among them), so the next page starts where the last one stopped without
counting from the beginning: the reader seeks to ``SEQ`` through the segment index.

Filters on users or time need to know things stated before the page starts (who owns a job,
the last time stamp): :func:`update_index` gathers them in one pass over the records that
mention them, found by their bytes before anything is decoded.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgpack

from .log import Kind, LogReader
from .log_attribution import DEFAULT_FIELDS, Attributor, Fields, LogIndex, Row, scan_value

ALL_KINDS: frozenset[Kind] = frozenset(Kind)
DEFAULT_KINDS: frozenset[Kind] = frozenset({Kind.EVENT, Kind.SINK, Kind.STATE})
KIND_NAMES: dict[Kind, str] = {
    Kind.HEADER: "header",
    Kind.EVENT: "event",
    Kind.SINK: "sink",
    Kind.STATE: "state",
    Kind.SNAPSHOT: "snapshot",
}
KINDS_BY_NAME: dict[str, Kind] = {v: k for k, v in KIND_NAMES.items()}


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    """Which records to show. ``None`` (or empty) for a filter means "any"."""

    kinds: frozenset[Kind] = DEFAULT_KINDS
    drivers: frozenset[str] | None = None
    jobs: frozenset[str] | None = None
    users: frozenset[str] | None = None
    start: int | None = None  # first seq, inclusive
    end: int | None = None  # last seq, inclusive
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None

    def needs_index(self) -> bool:
        return bool(self.users) or self.since is not None or self.until is not None

    def matches(self, row: Row) -> bool:
        entry = row.entry
        if entry.kind not in self.kinds:
            return False
        if self.drivers and (
            entry.kind not in (Kind.EVENT, Kind.SINK) or entry.name not in self.drivers
        ):
            return False
        if self.jobs and not (row.jobs & self.jobs):
            return False
        if self.users and not (row.users & self.users):
            return False
        if self.since is not None and (row.time is None or row.time < self.since):
            return False
        return not (self.until is not None and (row.time is None or row.time > self.until))


@dataclass(frozen=True, order=True)
class Cursor:
    seq: int
    skip: int = 0

    def __str__(self) -> str:
        return f"{self.seq}.{self.skip}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        seq, _, skip = text.partition(".")
        try:
            cursor = cls(int(seq), int(skip or 0))
        except ValueError:
            raise QueryError(
                f"cursor {text!r} is not SEQ.SKIP (two integers, e.g. 1200.3); "
                "use the one a previous page returned"
            ) from None
        if cursor.seq < 0 or cursor.skip < 0:
            raise QueryError(f"cursor {text!r} has a negative part")
        return cursor


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next: Cursor | None  # None: nothing more matched (as of now: a live log may grow)


@dataclass
class _Markers:
    """Byte strings whose presence in a payload means it may matter to the index."""

    needles: tuple[bytes, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, fields: Fields) -> _Markers:
        names = (fields.owner, *fields.times)
        return cls(tuple(msgpack.packb(n) for n in names))

    def hit(self, payload: bytes) -> bool:
        return any(n in payload for n in self.needles)


def update_index(reader: LogReader, index: LogIndex, fields: Fields = DEFAULT_FIELDS) -> LogIndex:
    """Bring ``index`` up to the end of the log (reading only what it has not seen yet)."""
    if index.upto < 0 and reader.header.created:
        index.add_time(reader.first_seq or 0, reader.header.created)
    markers = _Markers.of(fields)
    start = index.upto + 1
    last = index.upto
    for record in reader.records(start if start > 0 else None):
        last = record.seq
        if record.kind not in (Kind.EVENT, Kind.SINK) or not markers.hit(record.payload):
            continue
        _driver, value = msgpack.unpackb(record.payload, strict_map_key=False)
        found = scan_value(value, fields)
        for job, owner in found.owners.items():
            index.owners.setdefault(job, owner)
            index.first_seen.setdefault(job, record.seq)
        if found.time is not None:
            index.add_time(record.seq, found.time)
    # The last seq may still get sinks and states (its event is being handled): read it again.
    index.upto = last - 1 if last >= 0 else index.upto
    return index


def rows(
    reader: LogReader,
    query: Query,
    *,
    start: int | None = None,
    index: LogIndex | None = None,
    fields: Fields = DEFAULT_FIELDS,
) -> Iterator[Row]:
    """Matching rows in log order from seq ``start`` (or the query's start)."""
    if query.needs_index() and index is None:
        index = update_index(reader, LogIndex(), fields)
    first = max(start or 0, query.start or 0, _time_start(query, index))
    if query.end is not None and first > query.end:
        return
    attributor = Attributor(index, fields, start=first)
    kinds = query.kinds | ({Kind.HEADER} if first == 0 else frozenset())
    for entry in reader.entries(first or None, query.end, decode=False):
        if entry.kind not in kinds:
            continue
        row = attributor.row(entry)
        if query.until is not None and row.time is not None and row.time > query.until:
            return  # times never decrease along the log
        if query.matches(row):
            yield row


def _time_start(query: Query, index: LogIndex | None) -> int:
    if query.since is None or index is None:
        return 0
    i = bisect.bisect_left(index.anchor_times, query.since)
    # Records before the first anchor at or after ``since`` carry earlier times: none match.
    return index.anchor_seqs[i] if i < len(index.anchor_seqs) else index.upto + 1


def page(
    reader: LogReader,
    query: Query,
    *,
    cursor: Cursor | None = None,
    offset: int = 0,
    limit: int = 100,
    index: LogIndex | None = None,
    fields: Fields = DEFAULT_FIELDS,
) -> Page:
    """Up to ``limit`` matching rows after ``cursor`` (then ``offset`` more skipped)."""
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    if offset < 0:
        raise QueryError(f"offset must be >= 0, got {offset}")
    skip_at = cursor.seq if cursor is not None else -1
    to_skip = cursor.skip if cursor is not None else 0
    taken: list[Row] = []
    seen_at_seq = 0
    last_seq = -1
    start = cursor.seq if cursor is not None else None
    for row in rows(reader, query, start=start, index=index, fields=fields):
        seq = row.entry.seq
        seen_at_seq = seen_at_seq + 1 if seq == last_seq else 1
        last_seq = seq
        if seq == skip_at and seen_at_seq <= to_skip:
            continue
        if offset:
            offset -= 1
            continue
        if len(taken) == limit:
            # A match exists beyond the page: the next page starts at it.
            return Page(taken, Cursor(seq, seen_at_seq - 1))
        taken.append(row)
    return Page(taken, None)
