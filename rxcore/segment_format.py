"""The event/state log's segment format: constants, records, and reading helpers shared by
the writer and the reader (see :mod:`rxcore.segments` for the format itself)."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeGuard

_MAGIC = b"RXLOG\x00"
_VERSION = 2  # 1: one record per frame; 2 adds group frames (read both, write 2)
_SEG_HEADER = struct.Struct("<6sH")
_HEADER_BYTES = _SEG_HEADER.pack(_MAGIC, _VERSION)
_HEADER_SIZE = _SEG_HEADER.size
_REC = struct.Struct("<IIBQ")
_REC_SIZE = _REC.size
_IDX = struct.Struct("<BQQ")
_IDX_SIZE = _IDX.size
_INDEXED_LEN = 1 << 31
_GROUP_LEN = 1 << 30
_MAX_PAYLOAD = _GROUP_LEN - 1
_SUB = struct.Struct("<IBQ")
_SUB_SIZE = _SUB.size
# Records are gathered into one frame (one header, one crc) up to about this many bytes:
# framing each small record alone cost more than encoding it.
_GROUP_BYTES = 1 << 16
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
_pack_sub = _SUB.pack
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


class Layout(NamedTuple):
    """How a segment's frame lengths read: the payload size bits and the group flag (0 in
    version 1, where no frame is a group)."""

    version: int
    size_mask: int
    group_flag: int


_LAYOUTS = {
    1: Layout(1, _INDEXED_LEN - 1, 0),
    2: Layout(2, _MAX_PAYLOAD, _GROUP_LEN),
}
CURRENT = _LAYOUTS[_VERSION]


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


def _check_header(f: BinaryIO, path: Path, is_last: Callable[[], bool]) -> Layout | None:
    """The layout of the segment's format version, None if the header is torn."""
    f.seek(0)
    head = f.read(_HEADER_SIZE)
    if len(head) == _HEADER_SIZE and head[: len(_MAGIC)] == _MAGIC:
        version = _SEG_HEADER.unpack(head)[1]
        layout = _LAYOUTS.get(version)
        if layout is None:
            raise LogCorrupted(
                path,
                0,
                f"unsupported segment format version {version} (this rxgen reads "
                f"{', '.join(map(str, _LAYOUTS))}): written by a newer rxgen?",
            )
        return layout
    torn = any(_SEG_HEADER.pack(_MAGIC, v).startswith(head) for v in _LAYOUTS)
    if is_last() and (torn or _zeros_from(f, 0)):
        return None
    raise LogCorrupted(path, 0, "not an rxgen log segment (bad or truncated header)")


class Frame(NamedTuple):
    offset: int
    end: int
    indexed: bool
    records: list[Record]


def _scan_frames(
    f: BinaryIO, path: Path, offset: int, is_last: Callable[[], bool], layout: Layout
) -> Iterator[Frame]:
    """Each frame from ``offset`` on, with its records, up to a torn tail."""
    f.seek(offset)
    read = f.read
    unpack = _REC.unpack
    size_mask, group_flag = layout.size_mask, layout.group_flag
    prev_seq = -1
    while True:
        head = read(_REC_SIZE)
        if len(head) < _REC_SIZE:
            if head:
                _bad_bytes(f, path, offset, offset + _REC_SIZE, "truncated record header", is_last)
            return
        length, crc, kind, seq = unpack(head)
        n = length & size_mask
        end = offset + _REC_SIZE + n
        payload = read(n)
        if len(payload) < n:
            reason = f"truncated record ({len(payload)} of {n} payload bytes)"
            _bad_bytes(f, path, offset, end, reason, is_last)
            return
        if _crc32(payload, _crc32(head[8:])) != crc:
            _bad_bytes(f, path, offset, end, "crc mismatch", is_last)
            return
        if length & group_flag:
            records = _group_records(payload, kind, seq, path, offset)
        else:
            records = [Record(kind, seq, payload)]
        if seq < prev_seq:
            raise LogCorrupted(path, offset, f"seq {seq} follows seq {prev_seq}")
        prev_seq = records[-1].seq
        yield Frame(offset, end, bool(length & _INDEXED_LEN), records)
        offset = end


def _group_records(payload: bytes, kind: int, seq: int, path: Path, offset: int) -> list[Record]:
    """The records of a group frame (its crc checked out: any flaw is corruption)."""
    records = []
    unpack_from = _SUB.unpack_from
    pos, size, prev_seq = 0, len(payload), seq
    while pos < size:
        if pos + _SUB_SIZE > size:
            raise LogCorrupted(path, offset, f"group record header cut short at byte {pos}")
        n, sub_kind, sub_seq = unpack_from(payload, pos)
        pos += _SUB_SIZE
        if pos + n > size or sub_seq < prev_seq:
            raise LogCorrupted(path, offset, f"group record at byte {pos - _SUB_SIZE} is invalid")
        records.append(Record(sub_kind, sub_seq, payload[pos : pos + n]))
        pos += n
        prev_seq = sub_seq
    if not records or records[0].kind != kind or records[0].seq != seq:
        raise LogCorrupted(path, offset, "group frame does not match its first record")
    return records


def _entry_due(countdown: int, records: int, indexed: bool) -> tuple[bool, int]:
    """Whether a frame of ``records`` records gets an index entry, and the countdown after it.

    Every indexed frame gets one; so does, as a seek point, the frame that completes
    ``_SPARSE_EVERY`` records since the last entry (an entry can only point at a frame). The
    writer and both index rebuilds use this one rule, so a rebuilt .idx equals the written one.
    """
    left = countdown - records
    return (True, _SPARSE_EVERY) if indexed or left <= 0 else (False, left)


def _scan(
    f: BinaryIO, path: Path, offset: int, is_last: Callable[[], bool], layout: Layout
) -> Iterator[tuple[int, bool, Record]]:
    """(offset of its frame, indexed, record) for each record from ``offset`` on."""
    for frame in _scan_frames(f, path, offset, is_last, layout):
        for record in frame.records:
            yield frame.offset, frame.indexed, record


def _read_at(f: BinaryIO, offset: int, layout: Layout) -> tuple[Record, bool, int] | None:
    """The first record of the intact frame at ``offset``, whether the frame is indexed and
    where the next frame starts."""
    f.seek(offset)
    head = f.read(_REC_SIZE)
    if len(head) < _REC_SIZE:
        return None
    length, crc, kind, seq = _REC.unpack(head)
    n = length & layout.size_mask
    payload = f.read(n)
    if len(payload) < n or _crc32(payload, _crc32(head[8:])) != crc:
        return None
    if length & layout.group_flag:
        first_size = _SUB.unpack_from(payload)[0] if n >= _SUB_SIZE else 0
        payload = payload[_SUB_SIZE : _SUB_SIZE + first_size]
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


def _load_entries(f: BinaryIO, seg_size: int, idx_path: Path, layout: Layout) -> list[_Entry]:
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
    while entries and not _points_at(_read_at(f, entries[-1].offset, layout), entries[-1]):
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
