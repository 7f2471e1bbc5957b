"""Frames in log segments: records that share one, indexed records alone, and reading the
version 1 format (one record per frame) that rxgen wrote before groups."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from rxcore.segments import LogCorrupted, Record, SegmentReader, SegmentWriter
from tests.rxcore.test_segments import (
    SNAPSHOT,
    Rec,
    as_records,
    frames,
    read_all,
    write,
)


def test_records_appended_between_flushes_share_a_frame(tmp_path: Path) -> None:
    recs: list[Rec] = [(2, i, b"event %d" % i, False) for i in range(100)]
    with SegmentWriter(tmp_path) as w:
        for i, (kind, seq, payload, _) in enumerate(recs):
            w.append(kind, seq, payload)
            if i in (0, 49):
                w.flush()
        w.append(SNAPSHOT, 99, b"state", indexed=True)  # always a frame of its own
        w.append(2, 99, b"after")
    recs += [(SNAPSHOT, 99, b"state", True), (2, 99, b"after", False)]
    seg = tmp_path / "00000000000000000000.seg"
    assert [len(f.records) for f in frames(seg.read_bytes())] == [1, 49, 50, 1, 1]
    assert read_all(tmp_path) == as_records(recs)
    with SegmentReader(tmp_path) as r:
        assert r.count_kinds() == {2: 101, SNAPSHOT: 1}
        assert [rec.seq for rec in r.records(start_seq=73, end_seq=75)] == [73, 74, 75]
        found = r.last_indexed(SNAPSHOT, 99)
        assert found is not None and list(r.records_after(found[1])) == [Record(2, 99, b"after")]


def test_seeking_into_segments_of_large_frames(tmp_path: Path) -> None:
    recs = [(1, i, b"record %d" % i, i % 997 == 0) for i in range(20_000)]
    write(tmp_path, recs, max_segment_bytes=150_000)
    assert len(list(tmp_path.glob("*.seg"))) > 2
    with SegmentReader(tmp_path) as r:
        for start in (0, 1, 1500, 9_999, 12_345, 19_999):
            assert [rec.seq for rec in r.records(start, start + 3)] == [
                seq for seq in range(start, start + 4) if seq < 20_000
            ]
        found = r.last_indexed(1, 15_000)
        assert found is not None and found[0].seq == 14_955
        assert next(iter(r.records_after(found[1]))).seq == 14_956


def version_1_segment(recs: list[Rec]) -> bytes:
    """A segment as rxgen wrote them before group frames: one record per frame."""
    data = bytearray(b"RXLOG\x00" + (1).to_bytes(2, "little"))
    for kind, seq, payload, indexed in recs:
        kind_seq = struct.pack("<BQ", kind, seq)
        length = len(payload) | (1 << 31 if indexed else 0)
        data += struct.pack("<II", length, zlib.crc32(payload, zlib.crc32(kind_seq)))
        data += kind_seq + payload
    return bytes(data)


def test_version_1_segments_are_read_and_continued_in_a_new_segment(tmp_path: Path) -> None:
    old: list[Rec] = [(1, i, b"old %d" % i, i == 3) for i in range(6)]
    (tmp_path / "00000000000000000000.seg").write_bytes(version_1_segment(old))
    assert read_all(tmp_path) == as_records(old)
    with SegmentWriter(tmp_path) as w:  # builds the missing .idx, appends to a new segment
        assert w.last_seq == 5
        w.append(1, 6, b"new 6")
        w.append(1, 7, b"new 7")
    new: list[Rec] = [(1, 6, b"new 6", False), (1, 7, b"new 7", False)]
    assert sorted(p.name for p in tmp_path.glob("*.seg")) == [
        "00000000000000000000.seg",
        "00000000000000000006.seg",
    ]
    assert (tmp_path / "00000000000000000000.seg").read_bytes() == version_1_segment(old)
    with SegmentReader(tmp_path) as r:
        assert list(r.records()) == as_records(old + new)
        found = r.last_indexed(1, 100)
        assert found is not None and found[0] == Record(1, 3, b"old 3")
        assert [rec.seq for rec in r.records_after(found[1])] == [4, 5, 6, 7]
        assert r.count_kinds() == {1: 8}


def test_a_newer_format_version_is_named(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000000.seg").write_bytes(b"RXLOG\x00" + (9).to_bytes(2, "little"))
    with pytest.raises(LogCorrupted, match="unsupported segment format version 9"):
        read_all(tmp_path)


def test_a_group_frame_whose_records_do_not_add_up_is_corruption(tmp_path: Path) -> None:
    # A frame that checks out (crc) but whose records are malformed was written wrong: not a
    # torn tail, so it is reported and never truncated away.
    payload = struct.pack("<IBQ", 2, 1, 0) + b"ok" + struct.pack("<IBQ", 99, 1, 1) + b"short"
    kind_seq = struct.pack("<BQ", 1, 0)
    header = struct.pack("<II", len(payload) | 1 << 30, zlib.crc32(payload, zlib.crc32(kind_seq)))
    seg = tmp_path / "00000000000000000000.seg"
    seg.write_bytes(b"RXLOG\x00" + (2).to_bytes(2, "little") + header + kind_seq + payload)
    with pytest.raises(LogCorrupted, match="group record at byte 15 is invalid"):
        read_all(tmp_path)
    with pytest.raises(LogCorrupted, match="group record"):
        SegmentWriter(tmp_path)
