// The debugger's reducer: every user action and every answer is an Action, folded into the
// state by one pure function. Requests follow from the state (see requests.ts).
import { filterQuery, parsePage } from './api';
import { bounds, currentSession, initialWhatIf, isLive, noFilters, timelineKey } from './model';
import { jump, receive, reveal, scrollBy, stepFrom, toTail, VISIBLE } from './timeline';
import type { DebuggerState, Kind, Need, SessionInfo, TextFilter } from './types';
import { reduceInspector, type InspectorAction } from './inspect';

export type Action =
  | { readonly type: 'active'; readonly active: boolean; readonly admin: boolean }
  | { readonly type: 'sessions'; readonly items: readonly SessionInfo[]; readonly live: string | null; readonly readOnly?: boolean }
  | { readonly type: 'sessions-failed'; readonly error: string }
  | { readonly type: 'refresh' }
  | { readonly type: 'imported'; readonly name: string | null; readonly error: string | null }
  | { readonly type: 'pick'; readonly name: string }
  | { readonly type: 'draft'; readonly field: TextFilter; readonly value: string }
  | { readonly type: 'kind'; readonly kind: Kind; readonly on: boolean }
  | { readonly type: 'apply' }
  | { readonly type: 'clear-filters' }
  | { readonly type: 'scroll'; readonly rows: number }
  | { readonly type: 'scrub'; readonly seq: number }
  | { readonly type: 'select'; readonly seq: number }
  | { readonly type: 'step'; readonly dir: 1 | -1 }
  | { readonly type: 'edge'; readonly end: boolean }
  | { readonly type: 'jump-text'; readonly value: string }
  | { readonly type: 'jump' }
  | { readonly type: 'follow'; readonly on: boolean }
  | { readonly type: 'job-text'; readonly value: string }
  | { readonly type: 'job-found'; readonly job: string; readonly body: unknown; readonly error: string | null }
  | { readonly type: 'activity' }
  | { readonly type: 'page-asked'; readonly need: Need }
  | { readonly type: 'page'; readonly need: Need; readonly body: unknown; readonly error: string | null }
  | InspectorAction;

/** Select `seq`, pause live following, and bring it into view. */
function selectSeq(s: DebuggerState, seq: number): DebuggerState {
  const { first, last } = bounds(s);
  const target = Math.max(first, Math.min(last, seq));
  const at = snap(target, s.timeline) ?? target;
  const shown = reveal(s.timeline, at);
  const loaded = shown.window.rows.some((r) => r.seq === at);
  const timeline = loaded ? shown : jump(s.timeline, at, first, last);
  return { ...s, selected: at, following: false, timeline, whatIf: s.selected === at ? s.whatIf : initialWhatIf };
}

function step(s: DebuggerState, dir: 1 | -1): DebuggerState {
  if (s.selected === null) {
    const top = s.timeline.window.rows.find((r) => r.seq >= s.timeline.anchor.seq);
    return top === undefined ? s : selectSeq(s, top.seq);
  }
  const next = stepFrom(s.timeline, s.selected, dir);
  if (next !== null) return selectSeq(s, next);
  // Not loaded yet: move the view that way so the page gets read; the next press steps.
  return { ...s, following: false, timeline: scrollBy(s.timeline, dir * VISIBLE) };
}

function pick(s: DebuggerState, name: string): DebuggerState {
  if (s.session === name) return s;
  const next: DebuggerState = { ...s, session: name, selected: null, inspector: null, verdict: null, verifyError: null, following: false, whatIf: initialWhatIf };
  const { first } = bounds(next);
  return { ...next, timeline: { ...next.timeline, anchor: { seq: first, skip: 0 }, error: null } };
}

function reduceTimeline(s: DebuggerState, action: Action): DebuggerState {
  switch (action.type) {
    case 'active':
      return { ...s, active: action.active, admin: action.admin, visits: action.active && !s.active ? s.visits + 1 : s.visits };
    case 'sessions': {
      const chosen = action.items.some((x) => x.name === s.session) ? s.session : (action.live ?? action.items[0]?.name ?? null);
      const next = { ...s, sessions: action.items, live: action.live, readOnly: action.readOnly === true, sessionsError: null };
      return chosen === null || chosen === s.session ? next : pick({ ...next, session: null }, chosen);
    }
    case 'refresh':
      return { ...s, visits: s.visits + 1 };
    case 'imported':
      if (action.error !== null || action.name === null) return { ...s, importNote: `Import failed: ${action.error ?? 'the server named no session'}` };
      // Reload the list (the new session is in it) and open the imported session.
      return pick({ ...s, visits: s.visits + 1, importNote: `Imported session ${action.name}.` }, action.name);
    case 'sessions-failed':
      return { ...s, sessionsError: action.error };
    case 'pick':
      return pick(s, action.name);
    case 'draft':
      return { ...s, draft: { ...s.draft, [action.field]: action.value } };
    case 'kind': {
      const kinds = action.on ? [...new Set([...s.draft.kinds, action.kind])] : s.draft.kinds.filter((k) => k !== action.kind);
      return { ...s, draft: { ...s.draft, kinds: (['event', 'sink', 'state'] as const).filter((k) => kinds.includes(k)) } };
    }
    case 'apply':
    case 'clear-filters': {
      const filters = action.type === 'apply' ? s.draft : noFilters;
      const error = filterError(filters);
      if (error !== null) return { ...s, filterError: error };
      const next = { ...s, filters, draft: filters, filterError: null };
      const { first, last } = bounds(next);
      const keep = s.selected !== null && s.selected >= first && s.selected <= last ? s.selected : first;
      return { ...next, timeline: jump(next.timeline, keep, first, last) };
    }
    case 'scroll':
      return { ...s, following: s.following && action.rows > 0, timeline: scrollBy(s.timeline, action.rows) };
    case 'scrub': {
      const { first, last } = bounds(s);
      return { ...s, following: false, timeline: jump(s.timeline, action.seq, first, last) };
    }
    case 'select':
      return selectSeq(s, action.seq);
    case 'step':
      return step(s, action.dir);
    case 'edge': {
      const { first, last } = bounds(s);
      return selectSeq(s, action.end ? last : first);
    }
    case 'jump-text':
      return { ...s, jumpTo: action.value };
    case 'jump': {
      const seq = Number(s.jumpTo.trim());
      return s.jumpTo.trim() === '' || !Number.isInteger(seq) || seq < 0 ? s : selectSeq(s, seq);
    }
    case 'follow': {
      if (!action.on || !isLive(s)) return { ...s, following: false };
      const { last } = bounds(s);
      const timeline = jump(s.timeline, Math.max(bounds(s).first, last - VISIBLE), bounds(s).first, last);
      return { ...s, following: true, seenActivity: s.activity - 1, timeline };
    }
    case 'job-text':
      return { ...s, jobJump: action.value, jobError: null };
    case 'job-found': {
      if (action.error !== null) return { ...s, jobError: action.error };
      const first = parsePage(action.body).items[0];
      return first === undefined ? { ...s, jobError: `No event of job ${action.job} in this session${s.admin ? '' : ' that you may see'}.` } : { ...selectSeq(s, first.seq), jobError: null };
    }
    case 'activity':
      return { ...s, activity: s.activity + 1 };
    case 'page-asked':
      return { ...s, timeline: { ...s.timeline, loading: action.need }, seenActivity: action.need.type === 'after' && action.need.tail ? s.activity : s.seenActivity };
    case 'page': {
      if (action.error !== null) return { ...s, timeline: { ...s.timeline, loading: null, error: action.error } };
      if (action.need.key !== timelineKey(s)) return { ...s, timeline: { ...s.timeline, loading: null } };
      const { items, next } = parsePage(action.body);
      const timeline = receive(s.timeline, action.need, items, next);
      return { ...s, timeline, selected: snap(s.selected, timeline), sessions: grown(s, timeline.window.rows[timeline.window.rows.length - 1]?.seq ?? null) };
    }
    default:
      return reduceInspector(s, action);
  }
}

/**
 * A selection made before its rows were read (a jump, Home, a job's start) may name a seq with
 * no row in this timeline (the header's seq 0, or one the filters leave out): it moves to the
 * next row there is, once that is read.
 */
function snap(selected: number | null, t: DebuggerState['timeline']): number | null {
  const rows = t.window.rows;
  if (selected === null || t.window.from > selected || rows.some((r) => r.seq === selected)) return selected;
  const next = rows.find((r) => r.seq > selected);
  return next === undefined ? selected : next.seq;
}

/** The live session's last seq moves on as new records are read. */
function grown(s: DebuggerState, seen: number | null): readonly SessionInfo[] {
  const session = currentSession(s);
  if (session === undefined || seen === null || (session.last_seq ?? -1) >= seen) return s.sessions;
  return s.sessions.map((x) => (x === session ? { ...x, last_seq: seen } : x));
}

function filterError(filters: DebuggerState['filters']): string | null {
  const q = filterQuery(filters);
  return 'error' in q ? q.error : null;
}

// A user moving the view retries a page that failed; answers alone never do (no retry loop).
const RETRIES = new Set<Action['type']>(['pick', 'apply', 'clear-filters', 'scroll', 'scrub', 'select', 'step', 'edge', 'jump', 'follow', 'refresh']);

/** Fold one action; while following the live session, keep its newest records in view. */
export function reduce(s: DebuggerState, action: Action): DebuggerState {
  const retried = RETRIES.has(action.type) && s.timeline.error !== null ? { ...s, timeline: { ...s.timeline, error: null } } : s;
  const next = reduceTimeline(retried, action);
  return next.following && next.timeline.window.end ? { ...next, timeline: toTail(next.timeline) } : next;
}
