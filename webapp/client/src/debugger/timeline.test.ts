import { describe, expect, it } from 'vitest';
import { pager, rec } from './testkit';
import { BACK_LIMIT, continuation, cursorOf, emptyWindow, indexOf, initialTimeline, jump, lowerBound, MAX_ROWS, need, PAGE, receive, reveal, scrollBy, stepFrom, toTail, trim, VISIBLE, visibleRows } from './timeline';
import type { Need, Timeline } from './types';

const K = 'session|kind=event';
const rows3 = [rec(1), rec(2, 'sink'), rec(2, 'state'), rec(3)];

/** Drive the timeline as the component does: ask, answer, until it needs nothing more. */
function settle(t: Timeline, log: ReturnType<typeof pager>, first = 1, maxReads = 50): Timeline {
  for (let i = 0; i < maxReads; i++) {
    const n = need(t, K, first);
    if (n === null) return t;
    const page = n.type === 'at' ? log.read(n.start, null, PAGE, null) : n.type === 'after' ? log.read(0, null, PAGE, n.cursor) : log.read(n.start, n.end, BACK_LIMIT, null);
    t = receive({ ...t, loading: n }, n, page.items, page.next);
  }
  throw new Error('the timeline kept asking');
}

describe('positions in the window', () => {
  it('finds rows by seq and by cursor', () => {
    expect(lowerBound(rows3, 2)).toBe(1);
    expect(lowerBound(rows3, 9)).toBe(4);
    expect(indexOf(rows3, { seq: 2, skip: 1 })).toBe(2);
    expect(indexOf(rows3, { seq: 2, skip: 7 })).toBe(3); // past the seq's rows: the next row
    expect(cursorOf(rows3, 2)).toEqual({ seq: 2, skip: 1 });
    expect(continuation(rows3, 1)).toEqual({ seq: 3, skip: 1 });
    expect(continuation([], 40)).toEqual({ seq: 40, skip: 0 });
  });
});

describe('need', () => {
  it('reads at the anchor for a new key, then forward, then backward', () => {
    const t0: Timeline = { ...initialTimeline(), anchor: { seq: 500, skip: 0 } };
    expect(need(t0, K, 1)).toEqual({ type: 'at', key: K, start: 500 });
    const log = pager(1000);
    const atPage = log.read(500, null, PAGE, null);
    const t1 = receive(t0, { type: 'at', key: K, start: 500 }, atPage.items, atPage.next);
    expect(t1.window.next).toEqual({ seq: 700, skip: 0 });
    // Enough below the anchor, none above: read backwards from the window's start.
    expect(need(t1, K, 1)).toEqual({ type: 'before', key: K, start: 300, end: 499 });
    const scrolled = { ...t1, anchor: { seq: 690, skip: 0 } };
    expect(need(scrolled, K, 1)).toEqual({ type: 'after', key: K, cursor: { seq: 700, skip: 0 }, tail: false });
  });

  it('asks for the tail of a live log only when told it grew', () => {
    const t: Timeline = { ...initialTimeline(), window: { key: K, rows: [rec(1), rec(2)], from: 1, next: { seq: 2, skip: 1 }, end: true }, anchor: { seq: 1, skip: 0 } };
    expect(need(t, K, 1)).toBeNull();
    expect(need(t, K, 1, true)).toEqual({ type: 'after', key: K, cursor: { seq: 2, skip: 1 }, tail: true });
  });

  it('reads afresh when the anchor jumps past the window', () => {
    const t: Timeline = { ...initialTimeline(), window: { key: K, rows: [rec(1)], from: 1, next: { seq: 2, skip: 0 }, end: false }, anchor: { seq: 90, skip: 0 } };
    expect(need(t, K, 1)?.type).toBe('at');
  });
});

describe('receive', () => {
  it('ignores an answer for a window that moved on', () => {
    const t: Timeline = { ...initialTimeline(), window: { key: K, rows: [rec(5)], from: 5, next: { seq: 6, skip: 0 }, end: false } };
    const stale: Need = { type: 'after', key: K, cursor: { seq: 3, skip: 0 }, tail: false };
    expect(receive(t, stale, [rec(9)], null).window).toBe(t.window);
    const before: Need = { type: 'before', key: K, start: 1, end: 2 };
    expect(receive(t, before, [rec(1)], null).window).toBe(t.window);
  });

  it('shrinks the backward span when a page overflows, grows it when matches are sparse', () => {
    const t: Timeline = { ...initialTimeline(), window: { key: K, rows: [rec(500)], from: 500, next: { seq: 501, skip: 0 }, end: true } };
    const asked: Need = { type: 'before', key: K, start: 300, end: 499 };
    const over = receive(t, asked, [rec(300)], '301.0');
    expect(over.span).toBe(PAGE / 4);
    expect(over.window.rows).toHaveLength(1);
    const sparse = receive(t, asked, [rec(420)], null);
    expect(sparse.window.from).toBe(300);
    expect(sparse.window.rows.map((r) => r.seq)).toEqual([420, 500]);
    expect(sparse.span).toBe(PAGE * 4);
  });
});

describe('a million events', () => {
  it('jumps anywhere with a couple of reads and keeps memory bounded while scrolling', () => {
    const log = pager(1_000_000);
    let t = settle(initialTimeline(), log);
    expect(visibleRows(t).map((r) => r.seq)).toEqual(Array.from({ length: VISIBLE }, (_, i) => i + 1));
    const before = log.reads;
    t = settle(jump(t, 900_000, 1, 1_000_000), log);
    expect(log.reads - before).toBeLessThanOrEqual(3);
    expect(visibleRows(t)[0]?.seq).toBe(900_000);
    for (let i = 0; i < 2000; i++) t = settle(scrollBy(t, 7), log);
    expect(visibleRows(t)[0]?.seq).toBe(914_000);
    expect(t.window.rows.length).toBeLessThanOrEqual(MAX_ROWS + PAGE);
    for (let i = 0; i < 100; i++) t = settle(scrollBy(t, -10), log);
    expect(visibleRows(t)[0]?.seq).toBe(913_000);
    t = settle(jump(t, 2_000_000, 1, 1_000_000), log);
    expect(visibleRows(t).at(-1)?.seq).toBe(1_000_000);
  });

  it('pages through seqs with many records each', () => {
    const log = pager(5000, (s) => Array.from({ length: 12 }, (_, i) => rec(s, i === 0 ? 'event' : 'sink')));
    let t = settle(jump(initialTimeline(), 3000, 1, 5000), log);
    expect(visibleRows(t)[0]).toMatchObject({ seq: 3000, kind: 'event' });
    t = settle(scrollBy(t, -30), log);
    expect(visibleRows(t)[0]).toMatchObject({ seq: 2997, kind: 'sink' });
    t = settle(scrollBy(t, 25), log);
    expect(cursorOf(t.window.rows, indexOf(t.window.rows, t.anchor))).toEqual({ seq: 2999, skip: 7 });
  });
});

describe('moving', () => {
  const w = { key: K, rows: Array.from({ length: 50 }, (_, i) => rec(i + 1)), from: 1, next: { seq: 50, skip: 1 }, end: true };
  const t: Timeline = { ...initialTimeline(), window: w, anchor: { seq: 1, skip: 0 } };

  it('scrolls within the rows and stops at the end', () => {
    expect(scrollBy(t, 5).anchor).toEqual({ seq: 6, skip: 0 });
    expect(scrollBy(t, -5)).toBe(t);
    expect(scrollBy(t, 1000).anchor.seq).toBe(50 - VISIBLE + 1);
  });

  it('reveals a row off screen and steps between seqs', () => {
    expect(reveal(t, 40).anchor.seq).toBe(40 - VISIBLE + 1);
    expect(reveal(t, 3)).toBe(t);
    expect(stepFrom(t, 10, 1)).toBe(11);
    expect(stepFrom(t, 1, -1)).toBeNull();
    expect(toTail(t).anchor.seq).toBe(50 - VISIBLE + 1);
    expect(jump(t, -4, 1, 50).anchor.seq).toBe(1);
  });

  it('trims far rows on a seq boundary', () => {
    const many = { ...w, rows: Array.from({ length: 30 }, (_, i) => rec(Math.floor(i / 3) + 1)), end: false };
    const trimmed = trim({ ...t, window: many, anchor: { seq: 10, skip: 0 } }, 'start', 20);
    expect(trimmed.window.rows[0]?.seq).toBe(trimmed.window.from);
    expect(trimmed.window.rows.filter((r) => r.seq === trimmed.window.from)).toHaveLength(3);
    const cut = trim({ ...t, window: { ...w, rows: w.rows }, anchor: { seq: 1, skip: 0 } }, 'end', 10);
    expect(cut.window.end).toBe(false);
    expect(cut.window.next).toEqual({ seq: cut.window.rows.length + 1, skip: 0 });
    expect(emptyWindow('x', 4).next).toEqual({ seq: 4, skip: 0 });
  });
});
