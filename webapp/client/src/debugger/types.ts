// The debugger's data: what the /api/logs routes answer, and the screen's own state. The
// debugger only reads recorded logs; nothing here ever changes the live server's state.

export type Kind = 'event' | 'sink' | 'state';
export const KINDS: readonly Kind[] = ['event', 'sink', 'state'];

export interface LogRecord {
  readonly kind: string;
  readonly seq: number;
  /** The driver for events and sinks, the reducer for states. */
  readonly name: string;
  readonly value: unknown;
  readonly jobs: readonly string[];
  readonly users: readonly string[];
  readonly time: number | null;
}

export interface SessionInfo {
  readonly name: string;
  readonly live: boolean;
  readonly size_bytes: number;
  readonly events: number;
  readonly first_seq: number | null;
  readonly last_seq: number | null;
  readonly first_time: number | null;
  readonly last_time: number | null;
  readonly error: string | null;
}

export interface Change {
  readonly op: string; // added | removed | changed
  readonly path: string; // a JSON pointer
  readonly before: unknown;
  readonly after: unknown;
}

/** Filters as typed in the form (strings), the same ones `rxgen log show` takes. */
export interface Filters {
  readonly kinds: readonly Kind[];
  readonly driver: string;
  readonly job: string;
  readonly user: string;
  readonly start: string;
  readonly end: string;
  readonly since: string; // datetime-local
  readonly until: string;
}
export type TextFilter = Exclude<keyof Filters, 'kinds'>;

/** A page cursor as the server writes it: records of `seq`, the first `skip` matches skipped. */
export interface Cursor {
  readonly seq: number;
  readonly skip: number;
}

/**
 * The loaded part of the timeline: every matching record from seq `from` up to `next`
 * (exclusive; the first `next.skip` records of `next.seq` are included). `end`: nothing more
 * matched when it was read (a live log may still grow).
 */
export interface Window {
  readonly key: string; // session and filters it was read with
  readonly rows: readonly LogRecord[];
  readonly from: number;
  readonly next: Cursor;
  readonly end: boolean;
}

/** What the timeline must read next. */
export type Need =
  | { readonly type: 'at'; readonly key: string; readonly start: number }
  | { readonly type: 'after'; readonly key: string; readonly cursor: Cursor; readonly tail: boolean }
  | { readonly type: 'before'; readonly key: string; readonly start: number; readonly end: number };

export interface Timeline {
  readonly window: Window;
  /** The top row shown: the `skip`-th record of `seq` (or the first after it). */
  readonly anchor: Cursor;
  readonly loading: Need | null;
  /** Seqs read per backward page; shrinks when a page overflows. */
  readonly span: number;
  readonly error: string | null;
}

export interface Verdict {
  readonly ok: boolean;
  readonly events: number;
  readonly sinks: number;
  readonly states: number;
  readonly divergence: string | null;
}

export interface SinkDifference {
  readonly op: string;
  readonly driver: string;
  readonly index: number;
  readonly recorded: unknown;
  readonly replayed: unknown;
}

export interface SeqDifference {
  readonly seq: number;
  readonly sinks: readonly SinkDifference[];
  readonly state: readonly Change[];
  readonly stateTotal: number;
}

export interface WhatIfReport {
  readonly seq: number;
  readonly action: string;
  readonly replayedFrom: number;
  readonly events: number;
  readonly comparedThrough: number;
  readonly firstDifference: number | null;
  readonly differences: readonly SeqDifference[];
  readonly finalState: readonly Change[];
  readonly complete: boolean;
  readonly stopped: string | null;
  readonly fault: string | null;
}

/** One piece of the inspector, read for one seq. */
export type Part<T> = { readonly status: 'loading' } | { readonly status: 'ready'; readonly value: T } | { readonly status: 'failed'; readonly error: string };

export interface Inspector {
  readonly seq: number;
  readonly key: string; // session the parts were read from
  readonly state: Part<unknown>;
  readonly diff: Part<readonly Change[]>;
  readonly records: Part<readonly LogRecord[]>;
}

export interface WhatIfState {
  readonly editing: boolean;
  readonly draft: string;
  readonly busy: boolean;
  readonly report: WhatIfReport | null;
  readonly error: string | null;
  readonly unavailable: boolean;
}

export interface DebuggerState {
  readonly active: boolean; // logged in and on this page
  readonly visits: number; // how often the page was opened (refreshes the session list)
  readonly admin: boolean;
  readonly sessions: readonly SessionInfo[];
  readonly live: string | null;
  readonly session: string | null;
  readonly sessionsError: string | null;
  readonly draft: Filters;
  readonly filters: Filters;
  readonly filterError: string | null;
  readonly timeline: Timeline;
  readonly selected: number | null;
  readonly following: boolean;
  readonly activity: number; // live messages seen
  readonly seenActivity: number; // activity when the tail was last read
  readonly inspector: Inspector | null;
  readonly open: Readonly<Record<string, boolean>>; // tree nodes opened or closed by hand
  readonly jumpTo: string;
  readonly jobJump: string;
  readonly jobError: string | null;
  readonly verifying: boolean;
  readonly verdict: Verdict | null;
  readonly verifyError: string | null;
  readonly whatIf: WhatIfState;
  readonly importNote: string | null; // the last import's outcome
  readonly readOnly: boolean; // `rxgen debug`: no export or import
}
