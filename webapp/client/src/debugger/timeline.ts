// Timeline windowing: a log may hold millions of records, so the timeline keeps one contiguous
// window of them (a few thousand at most), shows `VISIBLE` rows from an anchor, and says which
// page to read next. A jump anywhere (the scrubber, "jump to seq") moves the anchor and reads
// one page there; nothing in between is loaded. All functions here are pure.
import type { Cursor, LogRecord, Need, Timeline, Window } from './types';

export const VISIBLE = 18; // rows on screen
export const OVERSCAN = 24; // rows kept ready above and below them
export const PAGE = 200; // records per forward page
export const BACK_LIMIT = 1000; // records per backward page (the server's maximum)
export const MAX_ROWS = 4000; // records kept in memory
export const ROW_PX = 28;
export const MAX_SPAN = 1 << 22; // seqs per backward page at most

export const emptyWindow = (key: string, from = 0): Window => ({ key, rows: [], from, next: { seq: from, skip: 0 }, end: false });

export const initialTimeline = (): Timeline => ({ window: emptyWindow(''), anchor: { seq: 0, skip: 0 }, loading: null, span: PAGE, error: null });

/** Index of the first row with seq >= `seq` (rows are in log order). */
export function lowerBound(rows: readonly LogRecord[], seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid]?.seq ?? 0) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first row with seq > `seq`. */
export const upperBound = (rows: readonly LogRecord[], seq: number): number => lowerBound(rows, seq + 1);

export function indexOf(rows: readonly LogRecord[], at: Cursor): number {
  const first = lowerBound(rows, at.seq);
  const sameSeq = upperBound(rows, at.seq) - first;
  return first + Math.min(at.skip, sameSeq);
}

/** The cursor naming row `i`. */
export function cursorOf(rows: readonly LogRecord[], i: number): Cursor {
  const row = rows[i];
  if (row === undefined) return { seq: 0, skip: 0 };
  return { seq: row.seq, skip: i - lowerBound(rows, row.seq) };
}

/** Where to continue after `rows` read from `start` when the server said nothing more matched. */
export function continuation(rows: readonly LogRecord[], start: number): Cursor {
  const last = rows[rows.length - 1];
  if (last === undefined) return { seq: start, skip: 0 };
  return { seq: last.seq, skip: rows.length - lowerBound(rows, last.seq) };
}

export function parseCursor(text: string): Cursor | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) return null;
  return { seq: Number(match[1]), skip: Number(match[2] ?? 0) };
}

export const cursorText = (c: Cursor): string => `${c.seq}.${c.skip}`;

/** The rows on screen. */
export function visibleRows(t: Timeline, count = VISIBLE): readonly LogRecord[] {
  const i = indexOf(t.window.rows, t.anchor);
  return t.window.rows.slice(i, i + count);
}

/**
 * What to read next for the timeline of `key` (session and filters), or null. `first` is the
 * log's first seq; `tail`: the live log has grown since the end was last read.
 */
export function need(t: Timeline, key: string, first: number, tail = false, count = VISIBLE): Need | null {
  const w = t.window;
  // Past the window's end even when it ended there: a live log may have grown since.
  if (w.key !== key || t.anchor.seq < w.from || t.anchor.seq > w.next.seq) return { type: 'at', key, start: t.anchor.seq };
  const i = indexOf(w.rows, t.anchor);
  if (!w.end && w.rows.length - i < count + OVERSCAN) return { type: 'after', key, cursor: w.next, tail: false };
  if (i < OVERSCAN && w.from > first) return { type: 'before', key, start: Math.max(first, w.from - t.span), end: w.from - 1 };
  if (w.end && tail) return { type: 'after', key, cursor: w.next, tail: true };
  return null;
}

export const sameNeed = (a: Need | null, b: Need | null): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The timeline after the answer to `asked`: rows and the server's next cursor (null: no more). */
export function receive(t: Timeline, asked: Need, rows: readonly LogRecord[], next: string | null): Timeline {
  const loading = sameNeed(t.loading, asked) ? null : t.loading;
  const w = t.window;
  const cursor = next === null ? null : parseCursor(next);
  if (asked.type === 'at') {
    const window: Window = { key: asked.key, rows, from: asked.start, next: cursor ?? continuation(rows, asked.start), end: cursor === null };
    return trim({ ...t, window, loading, error: null }, 'end');
  }
  if (w.key !== asked.key) return { ...t, loading };
  if (asked.type === 'after') {
    if (w.next.seq !== asked.cursor.seq || w.next.skip !== asked.cursor.skip) return { ...t, loading }; // the window moved meanwhile
    const all = [...w.rows, ...rows];
    const window: Window = { ...w, rows: all, next: cursor ?? continuation(all, w.from), end: cursor === null };
    return trim({ ...t, window, loading, error: null }, 'start');
  }
  if (w.from !== asked.end + 1) return { ...t, loading };
  if (cursor !== null && t.span > 1) return { ...t, loading, span: Math.max(1, Math.floor(t.span / 4)) }; // too dense: ask for fewer seqs
  const window: Window = { ...w, rows: [...rows, ...w.rows], from: asked.start };
  // Sparse matches (a narrow filter): look further back next time instead of creeping.
  const span = rows.length < BACK_LIMIT / 4 ? Math.min(t.span * 4, MAX_SPAN) : t.span;
  return trim({ ...t, window, loading, span, error: null }, 'end');
}

/** Keep at most MAX_ROWS records, dropping from `side`, never the ones near the anchor. */
export function trim(t: Timeline, side: 'start' | 'end', max = MAX_ROWS): Timeline {
  const w = t.window;
  if (w.rows.length <= max) return t;
  const at = indexOf(w.rows, t.anchor);
  if (side === 'start') {
    const drop = Math.min(w.rows.length - max, Math.max(0, at - OVERSCAN));
    if (drop <= 0) return t;
    // Cut on a seq boundary so `from` still means "everything from here".
    const cut = lowerBound(w.rows, w.rows[drop]?.seq ?? 0) === drop ? drop : upperBound(w.rows, w.rows[drop]?.seq ?? 0);
    const rows = w.rows.slice(cut);
    const from = rows[0]?.seq ?? w.next.seq;
    return { ...t, window: { ...w, rows, from } };
  }
  const keep = Math.max(max, at + VISIBLE + OVERSCAN);
  if (keep >= w.rows.length) return t;
  const rows = w.rows.slice(0, keep);
  return { ...t, window: { ...w, rows, next: cursorOf(w.rows, keep), end: false } };
}

/** Scroll by `n` rows (negative: up). Rows not loaded yet are read when `need` asks for them. */
export function scrollBy(t: Timeline, n: number, count = VISIBLE): Timeline {
  const rows = t.window.rows;
  if (rows.length === 0) return t;
  const i = indexOf(rows, t.anchor);
  const bottom = t.window.end ? Math.max(0, rows.length - count) : rows.length - 1;
  const j = Math.max(0, Math.min(bottom, i + n));
  return j === i ? t : { ...t, anchor: cursorOf(rows, j) };
}

/** Put the anchor at `seq` (clamped to the log). */
export const jump = (t: Timeline, seq: number, first: number, last: number): Timeline => ({ ...t, anchor: { seq: Math.max(first, Math.min(last, Math.floor(seq))), skip: 0 } });

/** Show the last rows (live following). */
export function toTail(t: Timeline, count = VISIBLE): Timeline {
  const rows = t.window.rows;
  if (!t.window.end || rows.length === 0) return t;
  return { ...t, anchor: cursorOf(rows, Math.max(0, rows.length - count)) };
}

/** Scroll the least needed so the first row of `seq` is on screen. */
export function reveal(t: Timeline, seq: number, count = VISIBLE): Timeline {
  const rows = t.window.rows;
  const i = lowerBound(rows, seq);
  if (rows[i]?.seq !== seq) return t;
  const top = indexOf(rows, t.anchor);
  if (i < top) return { ...t, anchor: cursorOf(rows, i) };
  if (i >= top + count) return { ...t, anchor: cursorOf(rows, i - count + 1) };
  return t;
}

/**
 * The seq one step from `seq` among the loaded rows (`dir` 1: later, -1: earlier), or null
 * when that row is not loaded (yet, or at all).
 */
export function stepFrom(t: Timeline, seq: number, dir: 1 | -1): number | null {
  const rows = t.window.rows;
  const i = dir === 1 ? upperBound(rows, seq) : lowerBound(rows, seq) - 1;
  return rows[i]?.seq ?? null;
}
