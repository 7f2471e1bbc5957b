// Which requests the state calls for. Each channel yields a keyed want (or null); the component
// sends a want once per key, and marks it asked in the state so it is not sent again while the
// answer is on its way. Pure: the state in, values out.
import type { HttpRequest } from '../drivers/http';
import * as api from './api';
import { appliedQuery, bounds, isLive, timelineKey } from './model';
import type { Action } from './reducer';
import { need } from './timeline';
import type { DebuggerState } from './types';

export interface Want {
  readonly key: string;
  readonly requests: readonly HttpRequest[];
  readonly asked: Action | null;
}

export function wantSessions(s: DebuggerState): Want | null {
  if (!s.active || s.visits === 0) return null;
  return { key: `sessions:${s.visits}`, requests: [api.sessions(s.visits)], asked: null };
}

export function wantPage(s: DebuggerState): Want | null {
  if (!s.active || s.session === null || s.timeline.loading !== null || s.timeline.error !== null) return null;
  const tail = s.following && isLive(s) && s.activity > s.seenActivity;
  const wanted = need(s.timeline, timelineKey(s), bounds(s).first, tail);
  if (wanted === null) return null;
  const key = JSON.stringify(wanted) + (wanted.type === 'after' && wanted.tail ? `#${s.activity}` : '');
  return { key, requests: [api.page(s.session, appliedQuery(s), wanted)], asked: { type: 'page-asked', need: wanted } };
}

export function wantInspector(s: DebuggerState): Want | null {
  const { session, selected, inspector } = s;
  if (!s.active || session === null || selected === null) return null;
  if (inspector !== null && inspector.seq === selected && inspector.key === session) return null;
  const requests = [api.records(session, selected), api.state(session, selected), ...(selected > 0 ? [api.diff(session, selected)] : [])];
  return { key: `${session}:${selected}`, requests, asked: { type: 'inspect-asked', session, seq: selected } };
}

export const WANTS = [wantSessions, wantPage, wantInspector] as const;
