"""Reading the event/state log's segments: from a position, by kind and seq, up to a torn tail."""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .segment_format import (
    _HEADER_SIZE,
    _LAYOUTS,
    _MAGIC,
    _READ_BUFFER,
    _REC,
    _REC_SIZE,
    _SEG_HEADER,
    _SPARSE_EVERY,
    _SUB,
    _SUB_SIZE,
    Layout,
    Position,
    Record,
    _check_header,
    _Entry,
    _entry_due,
    _list_segments,
    _load_entries,
    _points_at,
    _read_at,
    _scan,
    _scan_frames,
    _Seg,
)


class SegmentReader:
    """Reads a log directory, possibly while a writer appends to it: it sees what was flushed.

    Segments are listed afresh by every call (and between segments while iterating), so new
    segments and retention show up. Records are yielded in log order.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self._dir = Path(directory)
        if not self._dir.is_dir():
            why = "not a directory" if self._dir.exists() else "no such directory"
            raise FileNotFoundError(f"no rxgen log at {self._dir}: {why}")
        if not _list_segments(self._dir):
            raise FileNotFoundError(f"no rxgen log at {self._dir}: it holds no *.seg segment")
        self._cache: dict[Path, tuple[tuple[int, ...], list[_Entry]]] = {}
        self._closed = False

    @property
    def segments(self) -> list[Path]:
        return [s.path for s in self._list()]

    @property
    def first_seq(self) -> int | None:
        for seg in self._list():
            with self._open(seg) as f:
                is_last = self._is_last(seg)
                layout = _check_header(f, seg.path, is_last)
                if layout is not None:
                    for _, _, rec in _scan(f, seg.path, _HEADER_SIZE, is_last, layout):
                        return rec.seq
        return None

    @property
    def last_seq(self) -> int | None:
        for seg in reversed(self._list()):
            with self._open(seg) as f:
                is_last = self._is_last(seg)
                layout = _check_header(f, seg.path, is_last)
                if layout is None:
                    continue
                entries = self._entries(f, seg, layout)
                start = entries[-1].offset if entries else _HEADER_SIZE
                last = None
                for frame in _scan_frames(f, seg.path, start, is_last, layout):
                    last = frame.records[-1].seq
                if last is not None:
                    return last
        return None

    def records(self, start_seq: int | None = None, end_seq: int | None = None) -> Iterator[Record]:
        """Records with ``start_seq <= seq <= end_seq`` (both inclusive, both optional).

        ``start_seq`` picks the segment by name and seeks with its index, then skips forward.
        """
        segs = self._list()
        if not segs:
            return iter(())
        if start_seq is None:
            return self._iterate(segs[0], _HEADER_SIZE, -1, end_seq)
        i = max(bisect.bisect_left([s.base for s in segs], start_seq) - 1, 0)
        return self._iterate(segs[i], None, start_seq, end_seq)

    def last_indexed(self, kind: int, at_or_before: int) -> tuple[Record, Position] | None:
        """The latest indexed record of ``kind`` with ``seq <= at_or_before``, and where it is."""
        segs = self._list()
        i = bisect.bisect_right([s.base for s in segs], at_or_before)
        for seg in reversed(segs[:i]):
            found = self._last_indexed_in(seg, kind, at_or_before)
            if found is not None:
                return found
        return None

    def records_after(self, position: Position, end_seq: int | None = None) -> Iterator[Record]:
        """The records after the one at ``position``, up to ``end_seq`` (inclusive) if given."""
        seg = next((s for s in self._list() if s.path.name == position.segment), None)
        if seg is None:
            raise FileNotFoundError(
                f"segment {position.segment} is no longer in {self._dir} (dropped by retention?)"
            )
        with self._open(seg) as f:
            layout = _check_header(f, seg.path, self._is_last(seg))
            found = None
            if layout is not None and position.offset >= _HEADER_SIZE:
                found = _read_at(f, position.offset, layout)
        if found is None:
            raise ValueError(f"{position} does not point at a record")
        return self._iterate(seg, found[2], -1, end_seq)

    def count_kinds(self) -> dict[int, int]:
        """How many records of each kind the log holds, from the record headers alone.

        Payloads are skipped, not checked: a torn or corrupt tail may be counted differently
        than :meth:`records` would read it (at most the records after the damage).
        """
        counts: dict[int, int] = {}
        unpack = _REC.unpack_from
        unpack_sub = _SUB.unpack_from
        for seg in self._list():
            try:
                data = seg.path.read_bytes()
            except FileNotFoundError:  # dropped by retention since the listing
                continue
            layout = _layout_of(data)
            if layout is None:
                continue
            offset, size = _HEADER_SIZE, len(data)
            while offset + _REC_SIZE <= size:
                length, _crc, kind, _seq = unpack(data, offset)
                start = offset + _REC_SIZE
                offset = start + (length & layout.size_mask)
                if offset > size:
                    break
                if not length & layout.group_flag:
                    counts[kind] = counts.get(kind, 0) + 1
                    continue
                while start + _SUB_SIZE <= offset:
                    n, kind, _seq = unpack_sub(data, start)
                    start += _SUB_SIZE + n
                    counts[kind] = counts.get(kind, 0) + 1
        return counts

    def close(self) -> None:
        self._closed = True
        self._cache.clear()

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------
    def _list(self) -> list[_Seg]:
        if self._closed:
            raise ValueError(f"SegmentReader for {self._dir} is closed")
        return _list_segments(self._dir)

    def _is_last(self, seg: _Seg) -> Callable[[], bool]:
        # Asked only on meeting a bad record: a torn tail is fine in the newest segment alone.
        def is_last() -> bool:
            segs = _list_segments(self._dir)
            return not segs or segs[-1] <= seg

        return is_last

    def _open(self, seg: _Seg) -> BinaryIO:
        try:
            return open(seg.path, "rb", buffering=_READ_BUFFER)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{seg.path} was deleted while the log was being read (retention?)"
            ) from None

    def _iterate(
        self, seg: _Seg, offset: int | None, start_seq: int, end_seq: int | None
    ) -> Iterator[Record]:
        """Records from ``offset`` in ``seg`` (None: seek to ``start_seq``) to the log's end."""
        while True:
            is_last = self._is_last(seg)
            with self._open(seg) as f:
                layout = _check_header(f, seg.path, is_last)
                if layout is not None:
                    if offset is None:
                        offset = self._seek(f, seg, start_seq, is_last, layout)
                    for _, _, rec in _scan(f, seg.path, offset, is_last, layout):
                        if rec.seq < start_seq:
                            continue
                        if end_seq is not None and rec.seq > end_seq:
                            return
                        yield rec
            following = [s for s in _list_segments(self._dir) if s > seg]
            if not following:
                return
            seg, offset = following[0], _HEADER_SIZE

    def _seek(
        self, f: BinaryIO, seg: _Seg, seq: int, is_last: Callable[[], bool], layout: Layout
    ) -> int:
        """An offset in ``seg`` at or before its first record with seq >= ``seq``."""
        entries = self._entries(f, seg, layout)
        k = bisect.bisect_left(entries, seq, key=lambda e: e.seq) - 1
        if k < 0:
            return _HEADER_SIZE
        if _points_at(_read_at(f, entries[k].offset, layout), entries[k]):
            return entries[k].offset
        entries = self._rebuild(f, seg, is_last, layout)
        k = bisect.bisect_left(entries, seq, key=lambda e: e.seq) - 1
        return entries[k].offset if k >= 0 else _HEADER_SIZE

    def _last_indexed_in(
        self, seg: _Seg, kind: int, at_or_before: int
    ) -> tuple[Record, Position] | None:
        try:
            f = open(seg.path, "rb", buffering=_READ_BUFFER)  # noqa: SIM115
        except FileNotFoundError:  # dropped by retention since the listing: nothing there
            return None
        with f:
            is_last = self._is_last(seg)
            layout = _check_header(f, seg.path, is_last)
            if layout is None:
                return None
            entries = self._entries(f, seg, layout)
            for _attempt in range(2):
                # Records after the last entry are not in the index yet (written since, or
                # lost with a crash): scan them, they are fewer than 1024.
                start = entries[-1].offset if entries else _HEADER_SIZE
                best: tuple[Record, int] | None = None
                for offset, indexed, rec in _scan(f, seg.path, start, is_last, layout):
                    if rec.seq > at_or_before:
                        break
                    if indexed and rec.kind == kind:
                        best = rec, offset
                if best is not None:
                    return best[0], Position(seg.path.name, best[1])
                hi = bisect.bisect_right(entries, at_or_before, key=lambda e: e.seq)
                for entry in reversed(entries[:hi]):
                    if entry.indexed and entry.kind == kind:
                        found = _read_at(f, entry.offset, layout)
                        if _points_at(found, entry):
                            return found[0], Position(seg.path.name, entry.offset)
                        break
                else:
                    return None
                entries = self._rebuild(f, seg, is_last, layout)
        return None

    def _cache_key(self, f: BinaryIO, seg: _Seg) -> tuple[int, ...]:
        st = os.fstat(f.fileno())
        try:
            ist = seg.idx.stat()
        except FileNotFoundError:
            return (st.st_size, st.st_mtime_ns, -1, -1)
        return (st.st_size, st.st_mtime_ns, ist.st_size, ist.st_mtime_ns)

    def _entries(self, f: BinaryIO, seg: _Seg, layout: Layout) -> list[_Entry]:
        key = self._cache_key(f, seg)
        cached = self._cache.get(seg.path)
        if cached is not None and cached[0] == key:
            return cached[1]
        entries = _load_entries(f, key[0], seg.idx, layout)
        self._cache[seg.path] = (key, entries)
        return entries

    def _rebuild(
        self, f: BinaryIO, seg: _Seg, is_last: Callable[[], bool], layout: Layout
    ) -> list[_Entry]:
        """The segment's entries from a full scan: its .idx disagreed with the .seg."""
        key = self._cache_key(f, seg)
        entries: list[_Entry] = []
        countdown = _SPARSE_EVERY
        for frame in _scan_frames(f, seg.path, _HEADER_SIZE, is_last, layout):
            due, countdown = _entry_due(countdown, len(frame.records), frame.indexed)
            if due:
                first = frame.records[0]
                entries.append(_Entry(first.seq, frame.offset, first.kind, frame.indexed))
        self._cache[seg.path] = (key, entries)
        return entries


def _layout_of(data: bytes) -> Layout | None:
    """The layout named by a segment's header bytes, None if they are not a valid header."""
    if len(data) < _HEADER_SIZE:
        return None
    magic, version = _SEG_HEADER.unpack_from(data)
    return _LAYOUTS.get(version) if magic == _MAGIC else None
