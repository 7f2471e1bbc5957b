"""On-disk storage of the event/state log: append-only segment files with sparse indexes.

A log is a directory of segments named ``<seq>.seg``, by the seq of their first record
zero-padded to 20 digits (``<seq>_<n>.seg`` when records sharing one seq fill several). Seqs
never decrease, so the names alone say which segment to seek into.

- ``.seg``: the header ``b"RXLOG\\x00"`` + u16 format version (1), then records, each a
  ``<I I B Q`` header (payload length, crc32, kind, seq) followed by the payload. Bit 31 of the
  length marks an *indexed* record; the crc32 covers the kind, seq and payload bytes.
- ``<seq>.idx`` beside each .seg: ``<B Q Q`` entries (kind, seq, offset of the record in the
  .seg). Bit 63 of the offset marks an indexed record's entry. Entries without it are seek
  points, one after every 1024 records that had no entry. Every kind 0..255 stays free.
  The .idx is only a cache: every entry used is checked against the record it points at, and
  the .seg alone says which records are indexed, so the writer can rebuild the .idx from it.

A crash may tear only the end of the last segment: a short header or payload, a bad crc on its
final record, or zeros up to the end of the file. On open the writer truncates such a tail and
rebuilds the index entries after it; a reader stops before it. Any other bad record raises
:class:`LogCorrupted`. Neither class is thread-safe; one writer per directory.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeGuard

__all__ = [
    "LogCorrupted",
    "Position",
    "Record",
    "Retention",
    "SegmentReader",
    "SegmentWriter",
]

_MAGIC = b"RXLOG\x00"
_VERSION = 1
_SEG_HEADER = struct.Struct("<6sH")
_HEADER_BYTES = _SEG_HEADER.pack(_MAGIC, _VERSION)
_HEADER_SIZE = _SEG_HEADER.size
_REC = struct.Struct("<IIBQ")
_REC_SIZE = _REC.size
_IDX = struct.Struct("<BQQ")
_IDX_SIZE = _IDX.size
_INDEXED_LEN = 1 << 31
_MAX_PAYLOAD = _INDEXED_LEN - 1
_INDEXED_OFF = 1 << 63
_OFFSET_MASK = _INDEXED_OFF - 1
_SPARSE_EVERY = 1024
_WRITE_BUFFER = 1 << 16
_READ_BUFFER = 1 << 16
# The writer's "segment size" while no segment is open: any append then starts one.
_NO_SEGMENT = 1 << 62
_NAME = re.compile(r"(\d{20})(?:_(\d+))?\.seg")

# Bound once: these run for every record.
_pack_kind_seq = struct.Struct("<BQ").pack
_pack_len_crc = struct.Struct("<II").pack
_pack_entry = _IDX.pack
_crc32 = zlib.crc32


class LogCorrupted(Exception):
    """A segment holds bytes that are not a torn tail: ``path`` and byte ``offset`` say where."""

    def __init__(self, path: str | os.PathLike[str], offset: int, reason: str) -> None:
        super().__init__(str(path), offset, reason)
        self.path = Path(path)
        self.offset = offset
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason} at byte offset {self.offset}"


@dataclass(frozen=True, slots=True)
class Record:
    kind: int
    seq: int
    payload: bytes


@dataclass(frozen=True)
class Retention:
    """Drop whole oldest segments while the log (.seg + .idx bytes) is over ``max_bytes`` or
    the oldest segment was last written more than ``max_age_s`` ago. Never the current one."""

    max_bytes: int | None = None
    max_age_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_bytes is not None and self.max_bytes < 0:
            raise ValueError(f"Retention.max_bytes must be >= 0, got {self.max_bytes}")
        if self.max_age_s is not None and self.max_age_s < 0:
            raise ValueError(f"Retention.max_age_s must be >= 0, got {self.max_age_s}")


@dataclass(frozen=True)
class Position:
    """Where a record starts: its segment's file name and byte offset in it.

    :meth:`SegmentReader.last_indexed` returns one; :meth:`SegmentReader.records_after` reads
    on from the record after it. It stays valid until retention deletes the segment.
    """

    segment: str
    offset: int


@dataclass(frozen=True, order=True)
class _Seg:
    base: int
    gen: int
    path: Path = field(compare=False)

    @property
    def idx(self) -> Path:
        return self.path.with_suffix(".idx")


class _Entry(NamedTuple):
    seq: int
    offset: int
    kind: int
    indexed: bool


def _segment_name(base: int, gen: int) -> str:
    return f"{base:020d}.seg" if gen == 0 else f"{base:020d}_{gen:04d}.seg"


def _list_segments(directory: Path) -> list[_Seg]:
    segs = []
    with os.scandir(directory) as entries:
        for entry in entries:
            m = _NAME.fullmatch(entry.name)
            if m is not None:
                segs.append(_Seg(int(m[1]), int(m[2] or 0), directory / entry.name))
    segs.sort()
    return segs


def _yes() -> bool:
    return True


def _zeros_from(f: BinaryIO, offset: int) -> bool:
    f.seek(offset)
    while chunk := f.read(1 << 20):
        if chunk.count(0) != len(chunk):
            return False
    return True


def _bad_bytes(
    f: BinaryIO, path: Path, offset: int, end: int, reason: str, is_last: Callable[[], bool]
) -> None:
    """Return if the bad record spanning [offset, end) is a torn tail; raise otherwise."""
    # A crash leaves a record cut short, or one whose pages never reached the disk (garbage
    # in the final record, or zeros where the file system extended the file).
    if is_last() and (end >= os.fstat(f.fileno()).st_size or _zeros_from(f, offset)):
        return
    raise LogCorrupted(path, offset, reason)


def _check_header(f: BinaryIO, path: Path, is_last: Callable[[], bool]) -> bool:
    """True if the segment starts with a valid header, False if the header is torn."""
    f.seek(0)
    head = f.read(_HEADER_SIZE)
    if len(head) == _HEADER_SIZE and head[: len(_MAGIC)] == _MAGIC:
        version = _SEG_HEADER.unpack(head)[1]
        if version != _VERSION:
            raise LogCorrupted(
                path, 0, f"unsupported segment format version {version} (expected {_VERSION})"
            )
        return True
    if is_last() and (_HEADER_BYTES.startswith(head) or _zeros_from(f, 0)):
        return False
    raise LogCorrupted(path, 0, "not an rxgen log segment (bad or truncated header)")


def _scan(
    f: BinaryIO, path: Path, offset: int, is_last: Callable[[], bool]
) -> Iterator[tuple[int, bool, Record]]:
    """(offset, indexed, record) for each record from ``offset`` on, up to a torn tail."""
    f.seek(offset)
    read = f.read
    unpack = _REC.unpack
    prev_seq = -1
    while True:
        head = read(_REC_SIZE)
        if len(head) < _REC_SIZE:
            if head:
                _bad_bytes(f, path, offset, offset + _REC_SIZE, "truncated record header", is_last)
            return
        length, crc, kind, seq = unpack(head)
        n = length & _MAX_PAYLOAD
        end = offset + _REC_SIZE + n
        payload = read(n)
        if len(payload) < n:
            reason = f"truncated record ({len(payload)} of {n} payload bytes)"
            _bad_bytes(f, path, offset, end, reason, is_last)
            return
        if _crc32(payload, _crc32(head[8:])) != crc:
            _bad_bytes(f, path, offset, end, "crc mismatch", is_last)
            return
        if seq < prev_seq:
            raise LogCorrupted(path, offset, f"seq {seq} follows seq {prev_seq}")
        prev_seq = seq
        yield offset, bool(length & _INDEXED_LEN), Record(kind, seq, payload)
        offset = end


def _read_at(f: BinaryIO, offset: int) -> tuple[Record, bool, int] | None:
    """The intact record at ``offset``, whether it is indexed and where the next one starts."""
    f.seek(offset)
    head = f.read(_REC_SIZE)
    if len(head) < _REC_SIZE:
        return None
    length, crc, kind, seq = _REC.unpack(head)
    n = length & _MAX_PAYLOAD
    payload = f.read(n)
    if len(payload) < n or _crc32(payload, _crc32(head[8:])) != crc:
        return None
    return Record(kind, seq, payload), bool(length & _INDEXED_LEN), offset + _REC_SIZE + n


def _points_at(
    found: tuple[Record, bool, int] | None, entry: _Entry
) -> TypeGuard[tuple[Record, bool, int]]:
    """Whether the record read at ``entry.offset`` is the one the entry describes."""
    return (
        found is not None
        and found[0].seq == entry.seq
        and found[0].kind == entry.kind
        and found[1] == entry.indexed
    )


def _load_entries(f: BinaryIO, seg_size: int, idx_path: Path) -> list[_Entry]:
    """The trustworthy prefix of an .idx: whole, ordered entries up to the last one whose
    record checks out (later ones may point into a torn tail or a stale file)."""
    try:
        data = idx_path.read_bytes()
    except FileNotFoundError:
        return []
    entries: list[_Entry] = []
    prev_offset, prev_seq = _HEADER_SIZE - 1, -1
    for kind, seq, raw in _IDX.iter_unpack(data[: len(data) - len(data) % _IDX_SIZE]):
        offset = raw & _OFFSET_MASK
        if offset <= prev_offset or seq < prev_seq or offset + _REC_SIZE > seg_size:
            break
        entries.append(_Entry(seq, offset, kind, raw >= _INDEXED_OFF))
        prev_offset, prev_seq = offset, seq
    while entries and not _points_at(_read_at(f, entries[-1].offset), entries[-1]):
        entries.pop()
    return entries


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(f: io.FileIO, data: bytes | bytearray) -> None:
    written = f.write(data)
    while written < len(data):
        written += f.write(data[written:])


def _unlink(seg: _Seg) -> None:
    # .seg first: an .idx without its .seg is ignored, the reverse would be rebuilt.
    seg.path.unlink(missing_ok=True)
    seg.idx.unlink(missing_ok=True)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class SegmentWriter:
    """Appends records to a log directory, rolling segments and applying retention.

    Opening an existing log repairs a torn tail of its last segment and appends to it.
    A segment rolls right after the append that takes it to ``max_segment_bytes``, so
    ``on_roll`` (called at every roll, before anything else goes into the new segment) runs
    between the caller's appends; the records it appends stay in the new segment whatever their
    size. A reopened log whose last segment is already full rolls at its next append.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_segment_bytes: int = 64 << 20,
        retention: Retention | None = None,
        fsync: bool = False,
        on_roll: Callable[[SegmentWriter], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_segment_bytes <= 0:
            raise ValueError(f"max_segment_bytes must be > 0, got {max_segment_bytes}")
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._roll_at = max(max_segment_bytes, _HEADER_SIZE + 1)
        self._retention = retention
        self._fsync = fsync
        self._on_roll = on_roll
        self._clock = clock
        self._buf = bytearray()
        self._ibuf = bytearray()
        self._seg_file: io.FileIO | None = None
        self._idx_file: io.FileIO | None = None
        self._size = _NO_SEGMENT
        self._last = -1
        self._countdown = _SPARSE_EVERY
        self._closed = False
        self._in_roll = False
        self._segments = _list_segments(self._dir)
        while self._segments and not self._resume(self._segments[-1]):
            # Nothing survived in it (a crash right after a roll): the segment before it is
            # the one to continue, and the next roll will call on_roll again.
            _unlink(self._segments.pop())
            if fsync:
                _fsync_dir(self._dir)
        self._apply_retention()

    @property
    def last_seq(self) -> int | None:
        return None if self._last < 0 else self._last

    def append(self, kind: int, seq: int, payload: bytes, *, indexed: bool = False) -> None:
        if seq < self._last:
            raise ValueError(
                f"seq {seq} is before the last seq written ({self._last}); seqs must not decrease"
            )
        try:
            kind_seq = _pack_kind_seq(kind, seq)
        except struct.error:
            raise ValueError(_bad_kind_or_seq(kind, seq)) from None
        n = len(payload)
        if n > _MAX_PAYLOAD:
            raise ValueError(f"payload of {n} bytes is over the limit of {_MAX_PAYLOAD}")
        if self._size >= self._roll_at:
            self._start_segment(seq)
        offset = self._size
        buf = self._buf
        buf += _pack_len_crc(n | _INDEXED_LEN if indexed else n, _crc32(payload, _crc32(kind_seq)))
        buf += kind_seq
        buf += payload
        self._size = size = offset + _REC_SIZE + n
        self._last = seq
        countdown = self._countdown - 1
        if indexed or not countdown:
            self._ibuf += _pack_entry(kind, seq, offset | _INDEXED_OFF if indexed else offset)
            countdown = _SPARSE_EVERY
        self._countdown = countdown
        if len(buf) >= _WRITE_BUFFER:
            self._drain()
        if size >= self._roll_at:
            self._roll()

    def flush(self) -> None:
        """Hand buffered records to the OS (and to the disk, with ``fsync=True``)."""
        self._check_open()
        self._drain()
        if self._fsync:
            self._sync_files()

    def roll(self) -> None:
        """Start a new segment now (nothing happens if no record was written since the last)."""
        self._check_open()
        if self._seg_file is not None:
            self._roll()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._finish_segment()
        finally:
            self._closed = True
            self._size = _NO_SEGMENT

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- segments ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"SegmentWriter for {self._dir} is closed")

    def _start_segment(self, seq: int) -> None:
        self._check_open()
        if self._seg_file is not None:
            self._roll()
        if self._seg_file is None:  # on_roll may have started it
            self._open_segment(seq)

    def _roll(self) -> None:
        if self._in_roll:
            return
        # The new file is made by the next append, so that it is named by its first seq.
        self._finish_segment()
        self._in_roll = True
        try:
            if self._on_roll is not None:
                self._on_roll(self)
        finally:
            self._in_roll = False
        # Only now: on_roll has restated what the dropped segments held.
        self._apply_retention()

    def _open_segment(self, seq: int) -> None:
        prev = self._segments[-1] if self._segments else None
        gen = prev.gen + 1 if prev is not None and prev.base == seq else 0
        seg = _Seg(seq, gen, self._dir / _segment_name(seq, gen))
        seg_file = open(seg.path, "xb", buffering=0)  # noqa: SIM115 - held until the roll
        try:
            _write_all(seg_file, _HEADER_BYTES)
            self._idx_file = open(seg.idx, "wb", buffering=0)  # noqa: SIM115
        except BaseException:
            seg_file.close()
            raise
        self._seg_file = seg_file
        self._segments.append(seg)
        self._size = _HEADER_SIZE
        self._countdown = _SPARSE_EVERY
        if self._fsync:
            _fsync_dir(self._dir)

    def _finish_segment(self) -> None:
        if self._seg_file is None:
            return
        try:
            self._drain()
            if self._fsync:
                self._sync_files()
        finally:
            self._seg_file.close()
            if self._idx_file is not None:
                self._idx_file.close()
            self._seg_file = self._idx_file = None
            self._size = _NO_SEGMENT

    def _drain(self) -> None:
        # The .seg goes first so that, short of a crash, no entry points past its end.
        if self._buf and self._seg_file is not None:
            _write_all(self._seg_file, self._buf)
            self._buf.clear()
        if self._ibuf and self._idx_file is not None:
            _write_all(self._idx_file, self._ibuf)
            self._ibuf.clear()

    def _sync_files(self) -> None:
        if self._seg_file is not None:
            os.fsync(self._seg_file.fileno())
        if self._idx_file is not None:
            os.fsync(self._idx_file.fileno())

    def _resume(self, seg: _Seg) -> bool:
        """Repair the last segment and open it for appending; False if it holds no record."""
        with open(seg.path, "rb") as f:
            if not _check_header(f, seg.path, _yes):
                return False
            size = os.fstat(f.fileno()).st_size
            entries = _load_entries(f, size, seg.idx)
            # Everything up to the last entry that checks out was written before the crash;
            # scan only from there, rebuilding the entries after it as append() would have.
            start = entries[-1].offset if entries else _HEADER_SIZE
            end, last, countdown = start, -1, _SPARSE_EVERY
            added = bytearray()
            for offset, indexed, rec in _scan(f, seg.path, start, _yes):
                end = offset + _REC_SIZE + len(rec.payload)
                last = rec.seq
                if entries and offset == start:
                    continue
                countdown -= 1
                if indexed or not countdown:
                    added += _IDX.pack(
                        rec.kind, rec.seq, offset | _INDEXED_OFF if indexed else offset
                    )
                    countdown = _SPARSE_EVERY
        if last < 0:
            return False
        if size > end:
            os.truncate(seg.path, end)
        self._idx_file = open(seg.idx, "ab", buffering=0)  # noqa: SIM115 - held until the roll
        self._idx_file.truncate(len(entries) * _IDX_SIZE)
        _write_all(self._idx_file, added)
        self._seg_file = open(seg.path, "ab", buffering=0)  # noqa: SIM115
        self._size, self._last, self._countdown = end, last, countdown
        if self._fsync:
            self._sync_files()
        return True

    def _apply_retention(self) -> None:
        retention = self._retention
        if retention is None or len(self._segments) < 2:
            return
        now = self._clock()
        sizes = [_file_size(s.path) + _file_size(s.idx) for s in self._segments]
        if self._seg_file is not None:
            sizes[-1] = self._size + _file_size(self._segments[-1].idx) + len(self._ibuf)
        total = sum(sizes)
        deleted = False
        while len(self._segments) > 1:
            oldest = self._segments[0]
            too_big = retention.max_bytes is not None and total > retention.max_bytes
            too_old = False
            if not too_big and retention.max_age_s is not None:
                try:
                    too_old = now - oldest.path.stat().st_mtime > retention.max_age_s
                except FileNotFoundError:
                    too_old = True
            if not (too_big or too_old):
                break
            _unlink(oldest)
            del self._segments[0]
            total -= sizes.pop(0)
            deleted = True
        if deleted and self._fsync:
            _fsync_dir(self._dir)


def _bad_kind_or_seq(kind: int, seq: int) -> str:
    if not (isinstance(kind, int) and 0 <= kind <= 255):
        return f"kind must be an int in 0..255, got {kind!r}"
    return f"seq must be an int in 0..2**64-1, got {seq!r}"


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
                if _check_header(f, seg.path, is_last):
                    for _, _, rec in _scan(f, seg.path, _HEADER_SIZE, is_last):
                        return rec.seq
        return None

    @property
    def last_seq(self) -> int | None:
        for seg in reversed(self._list()):
            with self._open(seg) as f:
                is_last = self._is_last(seg)
                if not _check_header(f, seg.path, is_last):
                    continue
                entries = self._entries(f, seg)
                start = entries[-1].offset if entries else _HEADER_SIZE
                last = None
                for _, _, rec in _scan(f, seg.path, start, is_last):
                    last = rec.seq
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
            found = _read_at(f, position.offset) if position.offset >= _HEADER_SIZE else None
        if found is None:
            raise ValueError(f"{position} does not point at a record")
        return self._iterate(seg, found[2], -1, end_seq)

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
                if _check_header(f, seg.path, is_last):
                    if offset is None:
                        offset = self._seek(f, seg, start_seq, is_last)
                    for _, _, rec in _scan(f, seg.path, offset, is_last):
                        if rec.seq < start_seq:
                            continue
                        if end_seq is not None and rec.seq > end_seq:
                            return
                        yield rec
            following = [s for s in _list_segments(self._dir) if s > seg]
            if not following:
                return
            seg, offset = following[0], _HEADER_SIZE

    def _seek(self, f: BinaryIO, seg: _Seg, seq: int, is_last: Callable[[], bool]) -> int:
        """An offset in ``seg`` at or before its first record with seq >= ``seq``."""
        entries = self._entries(f, seg)
        k = bisect.bisect_left(entries, seq, key=lambda e: e.seq) - 1
        if k < 0:
            return _HEADER_SIZE
        if _points_at(_read_at(f, entries[k].offset), entries[k]):
            return entries[k].offset
        entries = self._rebuild(f, seg, is_last)
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
            if not _check_header(f, seg.path, is_last):
                return None
            entries = self._entries(f, seg)
            for _attempt in range(2):
                # Records after the last entry are not in the index yet (written since, or
                # lost with a crash): scan them, they are fewer than 1024.
                start = entries[-1].offset if entries else _HEADER_SIZE
                best: tuple[Record, int] | None = None
                for offset, indexed, rec in _scan(f, seg.path, start, is_last):
                    if rec.seq > at_or_before:
                        break
                    if indexed and rec.kind == kind:
                        best = rec, offset
                if best is not None:
                    return best[0], Position(seg.path.name, best[1])
                hi = bisect.bisect_right(entries, at_or_before, key=lambda e: e.seq)
                for entry in reversed(entries[:hi]):
                    if entry.indexed and entry.kind == kind:
                        found = _read_at(f, entry.offset)
                        if _points_at(found, entry):
                            return found[0], Position(seg.path.name, entry.offset)
                        break
                else:
                    return None
                entries = self._rebuild(f, seg, is_last)
        return None

    def _cache_key(self, f: BinaryIO, seg: _Seg) -> tuple[int, ...]:
        st = os.fstat(f.fileno())
        try:
            ist = seg.idx.stat()
        except FileNotFoundError:
            return (st.st_size, st.st_mtime_ns, -1, -1)
        return (st.st_size, st.st_mtime_ns, ist.st_size, ist.st_mtime_ns)

    def _entries(self, f: BinaryIO, seg: _Seg) -> list[_Entry]:
        key = self._cache_key(f, seg)
        cached = self._cache.get(seg.path)
        if cached is not None and cached[0] == key:
            return cached[1]
        entries = _load_entries(f, key[0], seg.idx)
        self._cache[seg.path] = (key, entries)
        return entries

    def _rebuild(self, f: BinaryIO, seg: _Seg, is_last: Callable[[], bool]) -> list[_Entry]:
        """The segment's entries from a full scan: its .idx disagreed with the .seg."""
        key = self._cache_key(f, seg)
        entries: list[_Entry] = []
        countdown = _SPARSE_EVERY
        for offset, indexed, rec in _scan(f, seg.path, _HEADER_SIZE, is_last):
            countdown -= 1
            if indexed or not countdown:
                entries.append(_Entry(rec.seq, offset, rec.kind, indexed))
                countdown = _SPARSE_EVERY
        self._cache[seg.path] = (key, entries)
        return entries
