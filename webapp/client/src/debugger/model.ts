// The debugger's initial state and the facts derived from it (which session, its seq range,
// the key its timeline is read with).
import { filterQuery, type FilterQuery } from './api';
import { initialTimeline } from './timeline';
import type { DebuggerState, Filters, SessionInfo } from './types';

export const noFilters: Filters = { kinds: ['event'], driver: '', job: '', user: '', start: '', end: '', since: '', until: '' };

export const initialWhatIf = { editing: false, draft: '', busy: false, report: null, error: null, unavailable: false } as const;

export function initialDebugger(): DebuggerState {
  return {
    active: false,
    visits: 0,
    admin: false,
    sessions: [],
    live: null,
    session: null,
    sessionsError: null,
    draft: noFilters,
    filters: noFilters,
    filterError: null,
    timeline: initialTimeline(),
    selected: null,
    following: false,
    activity: 0,
    seenActivity: 0,
    inspector: null,
    open: {},
    jumpTo: '',
    jobJump: '',
    jobError: null,
    verifying: false,
    verdict: null,
    verifyError: null,
    whatIf: initialWhatIf,
    importNote: null,
    readOnly: false,
  };
}

export const currentSession = (s: DebuggerState): SessionInfo | undefined => s.sessions.find((x) => x.name === s.session);

export function appliedQuery(s: DebuggerState): FilterQuery {
  const q = filterQuery(s.filters);
  return 'error' in q ? { query: 'kind=event', start: null, end: null } : q;
}

/** The seq range the timeline covers: the session's, narrowed by the filter's seq range. */
export function bounds(s: DebuggerState): { first: number; last: number } {
  const session = currentSession(s);
  const q = appliedQuery(s);
  const rows = s.timeline.window.rows;
  const seen = rows.length > 0 && s.timeline.window.key === timelineKey(s) ? (rows[rows.length - 1]?.seq ?? 0) : 0;
  const first = Math.max(session?.first_seq ?? 0, q.start ?? 0);
  const last = Math.max(first, Math.min(Math.max(session?.last_seq ?? 0, seen), q.end ?? Number.MAX_SAFE_INTEGER));
  return { first, last };
}

export function timelineKey(s: DebuggerState): string {
  const q = appliedQuery(s);
  return `${s.session ?? ''}|${q.query}|${q.start ?? ''}|${q.end ?? ''}`;
}

export const isLive = (s: DebuggerState): boolean => s.session !== null && s.session === s.live;
