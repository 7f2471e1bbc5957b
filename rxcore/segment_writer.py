"""Appending to the event/state log's segments: crash-safe tails, sparse indexes, retention."""

from __future__ import annotations

import io
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

from .segment_format import (
    _GROUP_BYTES,
    _GROUP_LEN,
    _HEADER_BYTES,
    _HEADER_SIZE,
    _IDX,
    _IDX_SIZE,
    _INDEXED_LEN,
    _INDEXED_OFF,
    _MAX_PAYLOAD,
    _NO_SEGMENT,
    _REC_SIZE,
    _SPARSE_EVERY,
    _SUB,
    _SUB_SIZE,
    _WRITE_BUFFER,
    CURRENT,
    Retention,
    _check_header,
    _crc32,
    _entry_due,
    _file_size,
    _fsync_dir,
    _list_segments,
    _load_entries,
    _pack_entry,
    _pack_kind_seq,
    _pack_len_crc,
    _pack_sub,
    _scan_frames,
    _Seg,
    _segment_name,
    _unlink,
    _write_all,
    _yes,
)


class SegmentWriter:
    """Appends records to a log directory, rolling segments and applying retention.

    Opening an existing log repairs a torn tail of its last segment and appends to it.
    Records appended between flushes share one frame (see :mod:`rxcore.segments`); an
    indexed record always has a frame of its own. A segment rolls right after the append that
    takes it (with the records not yet framed) to ``max_segment_bytes``, so
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
        # Records appended since the last frame: <I B Q> (length, kind, seq) + payload each.
        self._group = bytearray()
        self._group_count = 0
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
        n = len(payload)
        if indexed or n >= _GROUP_BYTES:
            self._append_alone(kind, seq, payload, indexed)
            return
        try:
            head = _pack_sub(n, kind, seq)
        except struct.error:
            raise ValueError(_bad_kind_or_seq(kind, seq)) from None
        if self._size >= self._roll_at:
            self._start_segment(seq)
        group = self._group
        group += head
        group += payload
        self._group_count += 1
        self._last = seq
        if len(group) >= _GROUP_BYTES:
            self._close_group()
        if self._size + len(group) >= self._roll_at:
            self._roll()

    def _append_alone(self, kind: int, seq: int, payload: bytes, indexed: bool) -> None:
        """Append in a frame of its own: an indexed record, or one too big to share."""
        n = len(payload)
        if n > _MAX_PAYLOAD:
            raise ValueError(f"payload of {n} bytes is over the limit of {_MAX_PAYLOAD}")
        try:
            _pack_sub(n, kind, seq)
        except struct.error:
            raise ValueError(_bad_kind_or_seq(kind, seq)) from None
        if self._size >= self._roll_at:
            self._start_segment(seq)
        self._close_group()
        self._frame(kind, seq, payload, _INDEXED_LEN if indexed else 0, 1, indexed)
        self._last = seq
        if self._size >= self._roll_at:
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

    def _close_group(self) -> None:
        """Frame the records appended since the last frame (one alone gets a plain frame)."""
        group = self._group
        if not group:
            return
        _size, kind, seq = _SUB.unpack_from(group)
        if self._group_count == 1:
            self._frame(kind, seq, group[_SUB_SIZE:], 0, 1, False)
        else:
            self._frame(kind, seq, group, _GROUP_LEN, self._group_count, False)
        group.clear()
        self._group_count = 0

    def _frame(
        self, kind: int, seq: int, payload: bytes | bytearray, flags: int, count: int, indexed: bool
    ) -> None:
        kind_seq = _pack_kind_seq(kind, seq)
        n = len(payload)
        offset = self._size
        buf = self._buf
        buf += _pack_len_crc(n | flags, _crc32(payload, _crc32(kind_seq)))
        buf += kind_seq
        buf += payload
        self._size = offset + _REC_SIZE + n
        due, self._countdown = _entry_due(self._countdown, count, indexed)
        if due:
            self._ibuf += _pack_entry(kind, seq, offset | _INDEXED_OFF if indexed else offset)
        if len(buf) >= _WRITE_BUFFER:
            self._write_out()

    def _drain(self) -> None:
        self._close_group()
        self._write_out()

    def _write_out(self) -> None:
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
        """Repair the last segment and open it for appending; False if it holds no record.

        A segment of an older format version is repaired but not appended to: the next append
        starts a new segment.
        """
        with open(seg.path, "rb") as f:
            layout = _check_header(f, seg.path, _yes)
            if layout is None:
                return False
            size = os.fstat(f.fileno()).st_size
            entries = _load_entries(f, size, seg.idx, layout)
            # Everything up to the last entry that checks out was written before the crash;
            # scan only from there, rebuilding the entries after it as append() would have.
            start = entries[-1].offset if entries else _HEADER_SIZE
            end, last, countdown = start, -1, _SPARSE_EVERY
            added = bytearray()
            for frame in _scan_frames(f, seg.path, start, _yes, layout):
                end = frame.end
                first = frame.records[0]
                last = frame.records[-1].seq
                if entries and frame.offset == start:
                    continue
                due, countdown = _entry_due(countdown, len(frame.records), frame.indexed)
                if due:
                    offset = frame.offset | _INDEXED_OFF if frame.indexed else frame.offset
                    added += _IDX.pack(first.kind, first.seq, offset)
        if last < 0:
            return False
        if size > end:
            os.truncate(seg.path, end)
        self._idx_file = open(seg.idx, "ab", buffering=0)  # noqa: SIM115 - held until the roll
        self._idx_file.truncate(len(entries) * _IDX_SIZE)
        _write_all(self._idx_file, added)
        self._last = last
        if layout != CURRENT:
            if self._fsync:
                os.fsync(self._idx_file.fileno())
            self._idx_file.close()
            self._idx_file = None
            return True
        self._seg_file = open(seg.path, "ab", buffering=0)  # noqa: SIM115
        self._size, self._countdown = end, countdown
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
            pending = len(self._ibuf) + len(self._group)
            sizes[-1] = self._size + _file_size(self._segments[-1].idx) + pending
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
