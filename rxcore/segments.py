"""On-disk storage of the event/state log: append-only segment files with sparse indexes.

A log is a directory of segments named ``<seq>.seg``, by the seq of their first record
zero-padded to 20 digits (``<seq>_<n>.seg`` when records sharing one seq fill several). Seqs
never decrease, so the names alone say which segment to seek into.

- ``.seg``: the header ``b"RXLOG\\x00"`` + u16 format version (2), then frames, each a
  ``<I I B Q`` header (payload length, crc32, kind, seq) followed by the payload; the crc32
  covers the kind, seq and payload bytes. Bit 31 of the length marks an *indexed* record, bit
  30 a *group*: a frame whose payload is several records, each ``<I B Q`` (length, kind, seq)
  + payload, the frame's kind and seq being its first record's. Records appended between two
  flushes share a group (up to about 64 KiB); an indexed record always has a frame of its own,
  and a lone record gets a plain frame. Version 1 segments (no groups; bit 30 is part of the
  length) are still read; a writer continues after them in a new segment.
- ``<seq>.idx`` beside each .seg: ``<B Q Q`` entries (kind, seq, offset of the frame in the
  .seg; kind and seq of its first record). Bit 63 of the offset marks an indexed record's
  entry. Entries without it are seek points, one at the first frame that completes 1024
  records since the last entry. Every kind 0..255 stays free.
  The .idx is only a cache: every entry used is checked against the frame it points at, and
  the .seg alone says which records are indexed, so the writer can rebuild the .idx from it.

A crash may tear only the end of the last segment: a short header or payload, a bad crc on its
final frame, or zeros up to the end of the file. On open the writer truncates such a tail and
rebuilds the index entries after it; a reader stops before it. Any other bad record raises
:class:`LogCorrupted`. Neither class is thread-safe; one writer per directory.
"""

from __future__ import annotations

from .segment_format import LogCorrupted, Position, Record, Retention
from .segment_reader import SegmentReader
from .segment_writer import SegmentWriter

__all__ = [
    "LogCorrupted",
    "Position",
    "Record",
    "Retention",
    "SegmentReader",
    "SegmentWriter",
]
