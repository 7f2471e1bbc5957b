// The debugger's requests to /api/logs (values for the HTTP driver) and the parsing of the
// answers. Categories start with "dbg-"; tags carry what was asked so answers can be matched.
import type { HttpRequest } from '../drivers/http';
import { cursorText } from './timeline';
import type { Change, Filters, Kind, LogRecord, Need, SeqDifference, SessionInfo, SinkDifference, Verdict, WhatIfReport } from './types';

const logUrl = (session: string, rest: string): string => `/api/logs/${encodeURIComponent(session)}/${rest}`;

export const sessions = (visit: number): HttpRequest => ({ category: 'dbg-sessions', url: '/api/logs', tag: visit });

/** Where the browser downloads a session bundle (the same file `rxgen log export` writes). */
export const exportUrl = (session: string): string => logUrl(session, 'export');

/** Upload a bundle made by export; the server answers with the imported session's name. */
export function importLog(file: File): HttpRequest {
  const form = new FormData();
  form.append('file', file, file.name);
  return { category: 'dbg-import', url: '/api/logs/import', method: 'POST', form, tag: { name: file.name } };
}

/** The imported session's name, from POST /api/logs/import's answer. */
export function importedName(body: unknown): string | null {
  const name = (body as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : null;
}

export interface FilterQuery {
  /** Everything but the seq range, as query parameters. */
  readonly query: string;
  readonly start: number | null;
  readonly end: number | null;
}

/** The filters as query parameters, or the reason they cannot be used. */
export function filterQuery(f: Filters): FilterQuery | { error: string } {
  if (f.kinds.length === 0) return { error: 'Choose at least one kind of record.' };
  const params: string[] = [`kind=${f.kinds.join(',')}`];
  const list = (name: string, text: string): void => {
    const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length > 0) params.push(`${name}=${encodeURIComponent(items.join(','))}`);
  };
  list('driver', f.driver);
  list('job', f.job);
  list('user', f.user);
  const range: (number | null)[] = [];
  for (const [name, text] of [['first', f.start], ['last', f.end]] as const) {
    const t = text.trim();
    if (t !== '' && !/^\d+$/.test(t)) return { error: `The ${name} seq must be a whole number, not "${text}".` };
    range.push(t === '' ? null : Number(t));
  }
  const [start = null, end = null] = range;
  if (start !== null && end !== null && end < start) return { error: `The last seq (${end}) is before the first (${start}).` };
  for (const [name, text] of [['since', f.since], ['until', f.until]] as const) {
    if (text.trim() === '') continue;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) return { error: `"${text}" is not a date and time (${name}).` };
    params.push(`${name}=${ms / 1000}`);
  }
  return { query: params.join('&'), start, end };
}

const PAGE_LIMIT = 200;
const BEFORE_LIMIT = 1000;

/**
 * A timeline page for `need`. The filter's first seq is where the timeline starts (the anchor
 * never goes before it); its last seq bounds every page.
 */
export function page(session: string, f: FilterQuery, need: Need): HttpRequest {
  const end = (limit: number | null): string => (limit === null ? '' : `&end=${limit}`);
  let range: string;
  if (need.type === 'at') range = `start=${need.start}${end(f.end)}&limit=${PAGE_LIMIT}`;
  else if (need.type === 'after') range = `cursor=${cursorText(need.cursor)}${end(f.end)}&limit=${PAGE_LIMIT}`;
  else range = `start=${need.start}&end=${need.end}&limit=${BEFORE_LIMIT}`;
  return { category: 'dbg-page', url: logUrl(session, `records?${f.query}&${range}`), tag: need };
}

export const records = (session: string, seq: number): HttpRequest => ({ category: 'dbg-records', url: logUrl(session, `records?kind=event,sink,state&start=${seq}&end=${seq}&limit=1000`), tag: { session, seq } });
export const state = (session: string, seq: number): HttpRequest => ({ category: 'dbg-state', url: logUrl(session, `state?at=${seq}`), tag: { session, seq } });
export const diff = (session: string, seq: number): HttpRequest => ({ category: 'dbg-diff', url: logUrl(session, `diff?a=${Math.max(0, seq - 1)}&b=${seq}`), tag: { session, seq } });
export const jobStart = (session: string, job: string): HttpRequest => ({ category: 'dbg-job', url: logUrl(session, `records?kind=event&job=${encodeURIComponent(job)}&limit=1`), tag: { session, job } });
export const verify = (session: string): HttpRequest => ({ category: 'dbg-verify', url: logUrl(session, 'verify'), method: 'POST', tag: { session } });
export const whatIf = (session: string, seq: number, payload: unknown | undefined): HttpRequest => ({
  category: 'dbg-whatif',
  url: logUrl(session, 'what-if'),
  method: 'POST',
  body: payload === undefined ? { seq, action: 'drop' } : { seq, action: 'edit', payload },
  tag: { session, seq },
});

// --- parsing: the server's answers, checked field by field ------------------------------------

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

export function parseSessions(body: unknown): { items: SessionInfo[]; live: string | null; readOnly: boolean } {
  const b = obj(body);
  const items = arr(b['items']).map((raw): SessionInfo => {
    const s = obj(raw);
    return {
      name: str(s['name']),
      live: s['live'] === true,
      size_bytes: num(s['size_bytes']),
      events: num(s['events']),
      first_seq: numOrNull(s['first_seq']),
      last_seq: numOrNull(s['last_seq']),
      first_time: numOrNull(s['first_time']),
      last_time: numOrNull(s['last_time']),
      error: strOrNull(s['error']),
    };
  });
  return { items: items.filter((s) => s.name !== ''), live: strOrNull(b['live']), readOnly: b['read_only'] === true };
}

export function parseRecord(raw: unknown): LogRecord {
  const r = obj(raw);
  return { kind: str(r['kind']), seq: num(r['seq']), name: str(r['name']), value: r['value'] ?? null, jobs: strs(r['jobs']), users: strs(r['users']), time: numOrNull(r['time']) };
}

export function parsePage(body: unknown): { items: LogRecord[]; next: string | null } {
  const b = obj(body);
  return { items: arr(b['items']).map(parseRecord), next: strOrNull(b['next_cursor']) };
}

export const parseChange = (raw: unknown): Change => {
  const c = obj(raw);
  return { op: str(c['op'], 'changed'), path: str(c['path']), before: c['before'] ?? null, after: c['after'] ?? null };
};

export const parseDiff = (body: unknown): Change[] => arr(obj(body)['changes']).map(parseChange);
export const parseState = (body: unknown): unknown => obj(body)['state'] ?? null;

export function parseVerdict(body: unknown): Verdict {
  const b = obj(body);
  return { ok: b['ok'] === true, events: num(b['events']), sinks: num(b['sinks']), states: num(b['states']), divergence: strOrNull(b['divergence']) };
}

function parseSinkDifference(raw: unknown): SinkDifference {
  const d = obj(raw);
  return { op: str(d['op'], 'changed'), driver: str(d['driver']), index: num(d['index']), recorded: d['recorded'] ?? null, replayed: d['replayed'] ?? null };
}

function parseSeqDifference(raw: unknown): SeqDifference {
  const d = obj(raw);
  const state = arr(d['state']).map(parseChange);
  return { seq: num(d['seq']), sinks: arr(d['sinks']).map(parseSinkDifference), state, stateTotal: num(d['state_total'], state.length) };
}

export function parseWhatIf(body: unknown): WhatIfReport {
  const b = obj(body);
  return {
    seq: num(b['seq']),
    action: str(b['action']),
    replayedFrom: num(b['replayed_from']),
    events: num(b['events']),
    comparedThrough: num(b['compared_through']),
    firstDifference: numOrNull(b['first_difference']),
    differences: arr(b['differences']).map(parseSeqDifference),
    finalState: arr(b['final_state']).map(parseChange),
    complete: b['complete'] === true,
    stopped: strOrNull(b['stopped']),
    fault: strOrNull(b['fault']),
  };
}

export const KIND_LABELS: Readonly<Record<Kind, string>> = { event: 'events', sink: 'sinks', state: 'state changes' };
