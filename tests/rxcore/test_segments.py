from __future__ import annotations

import os
import random
import struct
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxcore.segments import (
    LogCorrupted,
    Position,
    Record,
    Retention,
    SegmentReader,
    SegmentWriter,
)

Rec = tuple[int, int, bytes, bool]  # kind, seq, payload, indexed

SNAPSHOT = 5


def write(directory: Path, recs: list[Rec], *, flush_each: bool = False, **kwargs: Any) -> None:
    """Append ``recs``; records share frames unless ``flush_each`` gives each its own."""
    with SegmentWriter(directory, **kwargs) as w:
        for kind, seq, payload, indexed in recs:
            w.append(kind, seq, payload, indexed=indexed)
            if flush_each:
                w.flush()


def read_all(directory: Path) -> list[Record]:
    with SegmentReader(directory) as r:
        return list(r.records())


def as_records(recs: list[Rec]) -> list[Record]:
    return [Record(k, s, p) for k, s, p, _ in recs]


class Frame(NamedTuple):
    start: int
    end: int
    records: list[tuple[int, int]]  # (kind, seq) of each record in it


def frames(data: bytes) -> list[Frame]:
    """Every complete frame in a segment's bytes, from the documented format (version 2)."""
    found, offset = [], 8
    while offset + 17 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "little")
        end = offset + 17 + (length & 0x3FFFFFFF)
        if end > len(data):
            break
        if length & 0x40000000:  # a group: <I B Q> + payload per record
            records, pos = [], offset + 17
            while pos < end:
                size, kind, seq = struct.unpack_from("<IBQ", data, pos)
                records.append((kind, seq))
                pos += 13 + size
        else:
            records = [(data[offset + 8], int.from_bytes(data[offset + 9 : offset + 17], "little"))]
        found.append(Frame(offset, end, records))
        offset = end
    return found


def segment_seqs(path: Path) -> list[int]:
    return [seq for frame in frames(path.read_bytes()) for _, seq in frame.records]


def brute_last_indexed(recs: list[Rec], kind: int, at: int) -> int | None:
    found = None
    for i, (k, s, _, indexed) in enumerate(recs):
        if indexed and k == kind and s <= at:
            found = i
    return found


def snapshot_log(n: int = 400) -> list[Rec]:
    """Events, with a snapshot (indexed) every 10 seqs and an indexed record of another kind."""
    recs: list[Rec] = []
    for seq in range(n):
        recs.append((2, seq, b"event %d" % seq, False))
        if seq % 10 == 3:
            recs.append((SNAPSHOT, seq, b"snapshot %d" % seq, True))
        if seq % 25 == 7:
            recs.append((6, seq, b"other %d" % seq, True))
    return recs


# -- round trips -------------------------------------------------------------------------------
def test_round_trip_across_rolls(tmp_path: Path) -> None:
    rng = random.Random(1)
    recs = [
        (rng.randrange(256), i // 3, rng.randbytes(rng.randrange(80)), False) for i in range(600)
    ]
    write(tmp_path, recs, max_segment_bytes=1000)
    with SegmentReader(tmp_path) as r:
        assert len(r.segments) > 10
        assert r.segments == sorted(tmp_path.glob("*.seg"))
        assert list(r.records()) == as_records(recs)
        assert r.first_seq == 0
        assert r.last_seq == recs[-1][1]
    # a segment's name is a lower bound of its seqs and an upper bound of the ones before
    prev_last = 0
    for path in sorted(tmp_path.glob("*.seg")):
        seqs = segment_seqs(path)
        assert prev_last <= int(path.stem[:20]) <= seqs[0]
        prev_last = seqs[-1]


def test_empty_payloads_and_full_kind_range(tmp_path: Path) -> None:
    recs = [(k, k, b"", k % 2 == 0) for k in range(256)]
    write(tmp_path, recs)
    assert read_all(tmp_path) == as_records(recs)
    with SegmentReader(tmp_path) as r:
        found = r.last_indexed(254, 1000)
        assert found is not None and found[0] == Record(254, 254, b"")


def test_many_records_sharing_one_seq_across_rolls(tmp_path: Path) -> None:
    recs = [(1, 5, b"a%d" % i, False) for i in range(100)] + [(1, 6, b"b", False)]
    write(tmp_path, [(1, 1, b"first", False), *recs], max_segment_bytes=200)
    names = sorted(os.listdir(tmp_path))
    assert "00000000000000000005_0001.seg" in names  # the same base, told apart
    with SegmentReader(tmp_path) as r:
        assert list(r.records(start_seq=5)) == as_records(recs)
        assert list(r.records(start_seq=5, end_seq=5)) == as_records(recs[:-1])
        assert list(r.records(start_seq=6)) == [Record(1, 6, b"b")]


def test_reopen_continues_the_last_segment(tmp_path: Path) -> None:
    write(tmp_path, [(1, i, b"x", False) for i in range(10)])
    with SegmentWriter(tmp_path) as w:
        assert w.last_seq == 9
        w.append(1, 9, b"same seq is fine")
        w.append(1, 12, b"y")
    assert len(list(tmp_path.glob("*.seg"))) == 1
    records = read_all(tmp_path)
    assert records[-2:] == [Record(1, 9, b"same seq is fine"), Record(1, 12, b"y")]
    assert len(records) == 12


def test_invalid_appends_raise(tmp_path: Path) -> None:
    with SegmentWriter(tmp_path) as w:
        assert w.last_seq is None
        w.append(1, 10, b"x")
        with pytest.raises(ValueError, match="seq 9 is before the last seq written"):
            w.append(1, 9, b"y")
        with pytest.raises(ValueError, match=r"kind must be an int in 0\.\.255"):
            w.append(256, 11, b"y")
        with pytest.raises(ValueError, match=r"kind must be an int in 0\.\.255"):
            w.append(-1, 11, b"y")
        with pytest.raises(ValueError, match="seq must be"):
            w.append(1, 1 << 64, b"y")
        assert w.last_seq == 10
    with pytest.raises(ValueError, match="seq 3 is before"):
        SegmentWriter(tmp_path).append(1, 3, b"z")
    w = SegmentWriter(tmp_path)
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        w.append(1, 20, b"z")
    with pytest.raises(ValueError, match="closed"):
        w.flush()
    assert read_all(tmp_path) == [Record(1, 10, b"x")]


def test_reader_needs_a_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such directory"):
        SegmentReader(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"no \*\.seg segment"):
        SegmentReader(tmp_path)
    SegmentWriter(tmp_path / "fresh").close()  # no record, no segment
    with pytest.raises(FileNotFoundError):
        SegmentReader(tmp_path / "fresh")


def test_reader_follows_a_live_writer(tmp_path: Path) -> None:
    with SegmentWriter(tmp_path, max_segment_bytes=300) as w:
        w.append(1, 0, b"a")
        w.flush()
        r = SegmentReader(tmp_path)
        it = r.records()
        assert next(it) == Record(1, 0, b"a")
        w.append(1, 1, b"not flushed")
        assert list(r.records()) == [Record(1, 0, b"a")]
        for seq in range(2, 40):
            w.append(1, seq, b"payload %d" % seq)
        w.flush()
        assert len(r.segments) > 2
        # the iterator opened before the rolls reads on into the new segments
        assert [rec.seq for rec in it] == list(range(1, 40))
        assert r.last_seq == 39
        r.close()
        with pytest.raises(ValueError, match="closed"):
            r.records()


# -- crashes -----------------------------------------------------------------------------------
record_strategy = st.tuples(
    st.integers(0, 255), st.integers(0, 3), st.binary(max_size=40), st.booleans()
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(record_strategy, min_size=1, max_size=150),
    max_segment_bytes=st.sampled_from([100, 400, 1 << 20]),
    target=st.sampled_from(["seg", "idx", "no idx"]),
    data=st.data(),
)
def test_crash_at_any_byte_loses_only_the_torn_tail(
    steps: list[tuple[int, int, bytes, bool]],
    max_segment_bytes: int,
    target: str,
    data: st.DataObject,
) -> None:
    recs: list[Rec] = []
    seq = 0
    for kind, step, payload, indexed in steps:
        seq += step
        recs.append((kind, seq, payload, indexed))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write(directory, recs, max_segment_bytes=max_segment_bytes)
        last = sorted(directory.glob("*.seg"))[-1]
        seg_bytes = last.read_bytes()
        in_last = frames(seg_bytes)
        before = len(recs) - sum(len(f.records) for f in in_last)  # in earlier segments
        idx = last.with_suffix(".idx")
        if target == "seg":
            cut = data.draw(st.integers(0, len(seg_bytes)), label="cut")
            os.truncate(last, cut)
            kept = before + sum(len(f.records) for f in in_last if f.end <= cut)
        elif target == "idx":
            cut = data.draw(st.integers(0, idx.stat().st_size), label="cut")
            os.truncate(idx, cut)
            kept = len(recs)
        else:
            idx.unlink()
            kept = len(recs)
        expected = recs[:kept]
        files = {p.name: p.read_bytes() for p in directory.iterdir()}

        # a reader sees exactly the prefix and changes nothing
        with SegmentReader(directory) as r:
            assert list(r.records()) == as_records(expected)
            assert r.last_seq == (expected[-1][1] if expected else None)
        assert {p.name: p.read_bytes() for p in directory.iterdir()} == files

        # the writer repairs the tail and carries on
        with SegmentWriter(directory, max_segment_bytes=max_segment_bytes) as w:
            assert w.last_seq == (expected[-1][1] if expected else None)
            base = w.last_seq or 0
            extra: list[Rec] = [(SNAPSHOT, base + i, b"new %d" % i, i % 2 == 0) for i in range(5)]
            for kind, s, payload, indexed in extra:
                w.append(kind, s, payload, indexed=indexed)
        everything = expected + extra
        with SegmentReader(directory) as r:
            assert list(r.records()) == as_records(everything)
            for kind in {SNAPSHOT, recs[-1][0], recs[0][0]}:
                for at in {0, recs[len(recs) // 2][1], base, base + 10}:
                    i = brute_last_indexed(everything, kind, at)
                    found = r.last_indexed(kind, at)
                    if i is None:
                        assert found is None
                    else:
                        assert found is not None
                        assert found[0] == as_records(everything)[i]
                        assert list(r.records_after(found[1])) == as_records(everything[i + 1 :])
            start = recs[len(recs) // 2][1]
            assert list(r.records(start_seq=start)) == [
                rec for rec in as_records(everything) if rec.seq >= start
            ]


def test_torn_tail_is_truncated_and_index_rebuilt(tmp_path: Path) -> None:
    recs = [(1, i, b"r%d" % i, i % 3 == 0) for i in range(3000)]
    write(tmp_path, recs)
    seg, idx = tmp_path / "00000000000000000000.seg", tmp_path / "00000000000000000000.idx"
    good_seg, good_idx = seg.read_bytes(), idx.read_bytes()
    *_, (last_start, last_end, last_records) = frames(good_seg)
    with open(seg, "ab") as f:
        f.write(good_seg[last_start : last_end - 2])  # a half-written record
    with open(idx, "ab") as f:
        f.write(good_idx[-17:-5])  # a half-written entry
    SegmentWriter(tmp_path).close()
    assert seg.read_bytes() == good_seg
    assert idx.read_bytes() == good_idx
    # an index cut short, or pointing past the end of the segment, is rebuilt the same way
    os.truncate(idx, len(good_idx) // 2)
    SegmentWriter(tmp_path).close()
    assert idx.read_bytes() == good_idx
    os.truncate(seg, len(good_seg) - 3)
    SegmentWriter(tmp_path).close()
    assert seg.read_bytes() == good_seg[: frames(good_seg)[-2].end]
    assert read_all(tmp_path) == as_records(recs[: -len(last_records)])


def test_zero_filled_or_garbled_final_record_is_a_torn_tail(tmp_path: Path) -> None:
    write(tmp_path, [(1, i, b"payload", False) for i in range(5)], flush_each=True)
    seg = tmp_path / "00000000000000000000.seg"
    good = seg.read_bytes()
    with open(seg, "ab") as f:
        f.write(bytes(4096))  # the file system extended the file, the data never came
    assert read_all(tmp_path) == as_records([(1, i, b"payload", False) for i in range(5)])
    SegmentWriter(tmp_path).close()
    assert seg.read_bytes() == good
    garbled = bytearray(good)
    garbled[-1] ^= 0xFF  # last record's payload never fully reached the disk
    seg.write_bytes(bytes(garbled))
    assert len(read_all(tmp_path)) == 4
    SegmentWriter(tmp_path).close()
    assert len(read_all(tmp_path)) == 4


def test_crash_right_after_a_roll(tmp_path: Path) -> None:
    write(tmp_path, [(1, i, b"x" * 20, False) for i in range(20)], max_segment_bytes=200)
    segs = sorted(tmp_path.glob("*.seg"))
    lost = segment_seqs(segs[-1])
    os.truncate(segs[-1], 3)  # the new segment's header was being written
    rolled: list[int | None] = []
    with SegmentWriter(
        tmp_path, max_segment_bytes=200, on_roll=lambda w: rolled.append(w.last_seq)
    ) as w:
        assert not segs[-1].exists()  # nothing survived in it: continue the one before
        assert w.last_seq == lost[0] - 1
        for seq in range(20, 40):
            w.append(1, seq, b"x" * 20)
    assert rolled  # and on_roll runs again at the next roll
    kept = [seq for seq in range(20) if seq not in lost]
    assert [r.seq for r in read_all(tmp_path)] == kept + list(range(20, 40))


def test_corruption_in_the_middle_names_file_and_offset(tmp_path: Path) -> None:
    write(tmp_path, [(1, i, b"payload %d" % i, False) for i in range(10)], flush_each=True)
    seg = tmp_path / "00000000000000000000.seg"
    data = bytearray(seg.read_bytes())
    start = frames(bytes(data))[3].start
    data[start + 20] ^= 0x01
    seg.write_bytes(bytes(data))
    with SegmentReader(tmp_path) as r, pytest.raises(LogCorrupted) as info:
        list(r.records())
    assert info.value.path == seg
    assert info.value.offset == start
    assert f"{seg}: crc mismatch at byte offset {start}" == str(info.value)
    # the writer does not mistake it for a torn tail either
    with pytest.raises(LogCorrupted, match="crc mismatch"):
        SegmentWriter(tmp_path)
    assert seg.read_bytes() == bytes(data)


def test_torn_tail_of_an_earlier_segment_is_corruption(tmp_path: Path) -> None:
    write(tmp_path, [(1, i, b"x" * 20, False) for i in range(30)], max_segment_bytes=200)
    first = sorted(tmp_path.glob("*.seg"))[0]
    os.truncate(first, first.stat().st_size - 5)
    with SegmentReader(tmp_path) as r, pytest.raises(LogCorrupted, match="truncated record"):
        list(r.records())
    bad_magic = sorted(tmp_path.glob("*.seg"))[1]
    bad_magic.write_bytes(b"NOTALOG!" + bad_magic.read_bytes()[8:])
    with SegmentReader(tmp_path) as r, pytest.raises(LogCorrupted, match="not an rxgen log"):
        list(r.records(start_seq=bad_magic_seq(bad_magic)))


def bad_magic_seq(path: Path) -> int:
    return int(path.stem[:20]) + 1


# -- indexes and seeking -----------------------------------------------------------------------
def test_last_indexed_and_records_after_across_segments(tmp_path: Path) -> None:
    recs = snapshot_log()
    write(tmp_path, recs, max_segment_bytes=2000)
    with SegmentReader(tmp_path) as r:
        assert len(r.segments) > 5
        everything = as_records(recs)
        for at in [0, 2, 3, 4, 13, 99, 100, 103, 250, 399, 10_000]:
            for kind in (SNAPSHOT, 6, 2):
                i = brute_last_indexed(recs, kind, at)
                found = r.last_indexed(kind, at)
                if i is None:
                    assert found is None, (kind, at)
                    continue
                assert found is not None
                record, position = found
                assert record == everything[i]
                assert list(r.records_after(position)) == everything[i + 1 :]
                assert list(r.records_after(position, end_seq=at)) == [
                    rec for rec in everything[i + 1 :] if rec.seq <= at
                ]
        with pytest.raises(ValueError, match="does not point at a record"):
            r.records_after(Position(r.segments[0].name, 9))
        with pytest.raises(FileNotFoundError, match="no longer in"):
            r.records_after(Position("00000000000000099999.seg", 8))


def test_index_is_only_a_hint(tmp_path: Path) -> None:
    recs = snapshot_log(3000)
    write(tmp_path, recs, max_segment_bytes=20_000)
    everything = as_records(recs)

    def check() -> None:
        with SegmentReader(tmp_path) as r:
            for at in (5, 1234, 2999):
                i = brute_last_indexed(recs, SNAPSHOT, at)
                assert i is not None
                found = r.last_indexed(SNAPSHOT, at)
                assert found is not None and found[0] == everything[i]
            for start in (0, 77, 1500, 2999):
                assert list(r.records(start_seq=start, end_seq=start + 3)) == [
                    rec for rec in everything if start <= rec.seq <= start + 3
                ]

    idxs = sorted(tmp_path.glob("*.idx"))
    rng = random.Random(7)
    for idx in idxs[::2]:
        idx.write_bytes(rng.randbytes(idx.stat().st_size))  # garbage of the right size
    for idx in idxs[1::2]:
        idx.unlink()
    check()
    idxs[1].write_bytes(idxs[0].read_bytes())  # another segment's entries
    check()


def test_records_start_seq_seeks_instead_of_scanning(tmp_path: Path) -> None:
    recs = [(1, i, b"record %d" % i, False) for i in range(5000)]
    write(tmp_path, recs, max_segment_bytes=60_000, flush_each=True)
    segs = sorted(tmp_path.glob("*.seg"))
    assert len(segs) == 3
    # damage the start of the first two segments: a scan from the start would trip over them
    for path in segs[:2]:
        data = bytearray(path.read_bytes())
        data[frames(bytes(data))[10].start + 20] ^= 0xFF
        path.write_bytes(bytes(data))
    middle = segment_seqs(segs[1])
    assert len(middle) > 1100
    with SegmentReader(tmp_path) as r:
        assert [rec.seq for rec in r.records(start_seq=4990)] == list(range(4990, 5000))
        start = middle[1100]  # past the first sparse entry of the middle segment
        assert [rec.seq for rec in r.records(start, start + 2)] == [start, start + 1, start + 2]
        with pytest.raises(LogCorrupted):
            list(r.records(start_seq=middle[5]))


# -- rolling, retention, durability ------------------------------------------------------------
def test_on_roll_writes_first_in_each_new_segment(tmp_path: Path) -> None:
    def snapshot(w: SegmentWriter) -> None:
        seq = w.last_seq or 0
        w.append(SNAPSHOT, seq, b"S" * 500, indexed=True)  # bigger than a whole segment
        w.append(SNAPSHOT, seq, b"second", indexed=True)

    with SegmentWriter(tmp_path, max_segment_bytes=300, on_roll=snapshot) as w:
        for seq in range(50):
            w.append(2, seq, b"event %d" % seq)
        w.roll()
        w.roll()  # nothing written since the last roll: no empty segment
    with SegmentReader(tmp_path) as r:
        segments = r.segments
        assert len(segments) > 10
        for path in segments[1:]:
            data = path.read_bytes()
            kinds = [kind for frame in frames(data) for kind, _ in frame.records]
            assert kinds[:2] == [SNAPSHOT, SNAPSHOT]
            assert segment_seqs(path)[0] == int(path.stem[:20])
        assert [rec.seq for rec in r.records() if rec.kind == 2] == list(range(50))
    assert sorted(p.name for p in tmp_path.glob("*.seg"))[0] == "00000000000000000000.seg"


def test_retention_by_bytes_keeps_the_current_segment(tmp_path: Path) -> None:
    with SegmentWriter(tmp_path, max_segment_bytes=500, retention=Retention(max_bytes=2000)) as w:
        for seq in range(300):
            w.append(1, seq, b"y" * 30)
            total = sum(p.stat().st_size for p in tmp_path.iterdir())
            assert total <= 2000 + 600  # at most the current segment's fill over
    records = read_all(tmp_path)
    assert 20 < len(records) < 100
    assert [r.seq for r in records] == list(range(records[0].seq, 300))
    with SegmentWriter(tmp_path, max_segment_bytes=500, retention=Retention(max_bytes=0)) as w:
        assert [p.name for p in tmp_path.glob("*.seg")] == [sorted(tmp_path.glob("*.seg"))[-1].name]
        w.append(1, 300, b"z")
    with SegmentReader(tmp_path) as r:
        assert r.last_seq == 300
        assert r.first_seq is not None and r.first_seq > 200


def test_retention_by_age(tmp_path: Path) -> None:
    now = 1_000_000.0
    retention = Retention(max_age_s=3600)

    def age(day: int, seconds: float) -> None:
        for path in tmp_path.glob(f"{day:020d}.*"):
            os.utime(path, (now - seconds, now - seconds))

    with SegmentWriter(tmp_path, retention=retention, clock=lambda: now) as w:
        for day in range(4):
            w.append(1, day, b"day %d" % day)
            w.roll()
        assert len(list(tmp_path.glob("*.seg"))) == 4  # their real mtimes are in the future
        age(0, 2 * 86_400)
        age(1, 86_400)
        age(2, 1800)
        age(3, 86_400)
        w.append(1, 4, b"day 4")
        w.roll()
        # the oldest first, up to the first segment young enough to stay
        assert sorted(p.name[:20] for p in tmp_path.glob("*.seg")) == [
            f"{day:020d}" for day in (2, 3, 4)
        ]
    for path in tmp_path.iterdir():
        os.utime(path, (0, 0))
    # on open too; the current (last) segment stays however old it is
    SegmentWriter(tmp_path, retention=retention, clock=lambda: now).close()
    assert read_all(tmp_path) == [Record(1, 4, b"day 4")]


def test_fsync(tmp_path: Path) -> None:
    with SegmentWriter(tmp_path, fsync=True, max_segment_bytes=200) as w:
        for seq in range(30):
            w.append(1, seq, b"durable %d" % seq, indexed=seq % 7 == 0)
            if seq % 10 == 0:
                w.flush()
        w.roll()
        w.append(1, 30, b"last")
    with SegmentWriter(tmp_path, fsync=True) as w:
        w.append(1, 31, b"reopened")
    assert [r.seq for r in read_all(tmp_path)] == list(range(32))
