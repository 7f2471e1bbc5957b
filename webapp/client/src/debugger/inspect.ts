// The inspector's part of the reducer: the state, diff and records of the selected seq, the
// tree's open nodes, verify and what-if. Answers for another seq or session are ignored.
import { parseDiff, parseRecord, parseState, parseVerdict, parseWhatIf } from './api';
import type { DebuggerState, Inspector, Part } from './types';

export type PartName = 'state' | 'diff' | 'records';

export type InspectorAction =
  | { readonly type: 'inspect-asked'; readonly session: string; readonly seq: number }
  | { readonly type: 'inspected'; readonly part: PartName; readonly session: string; readonly seq: number; readonly body: unknown; readonly error: string | null }
  | { readonly type: 'toggle'; readonly path: string; readonly open: boolean }
  | { readonly type: 'verify-asked' }
  | { readonly type: 'verdict'; readonly session: string; readonly body: unknown; readonly error: string | null }
  | { readonly type: 'whatif-edit'; readonly on: boolean; readonly payload: unknown }
  | { readonly type: 'whatif-draft'; readonly text: string }
  | { readonly type: 'whatif-asked' }
  | { readonly type: 'whatif-invalid'; readonly error: string }
  | { readonly type: 'whatif'; readonly seq: number; readonly status: number; readonly body: unknown; readonly error: string | null };

const loading: Part<never> = { status: 'loading' };

function part<T>(body: unknown, error: string | null, parse: (body: unknown) => T): Part<T> {
  return error === null ? { status: 'ready', value: parse(body) } : { status: 'failed', error };
}

function fill(inspector: Inspector, name: PartName, body: unknown, error: string | null): Inspector {
  switch (name) {
    case 'state':
      return { ...inspector, state: part(body, error, parseState) };
    case 'diff':
      return { ...inspector, diff: part(body, error, parseDiff) };
    case 'records':
      return { ...inspector, records: part(body, error, (b) => (Array.isArray((b as { items?: unknown }).items) ? (b as { items: unknown[] }).items.map(parseRecord) : [])) };
  }
}

export function reduceInspector(s: DebuggerState, action: InspectorAction): DebuggerState {
  switch (action.type) {
    case 'inspect-asked': {
      // A new seq: the tree keeps the nodes opened by hand (the same paths usually matter).
      const inspector: Inspector = { seq: action.seq, key: action.session, state: loading, diff: action.seq > 0 ? loading : { status: 'ready', value: [] }, records: loading };
      return { ...s, inspector };
    }
    case 'inspected': {
      const i = s.inspector;
      if (i === null || i.seq !== action.seq || i.key !== action.session) return s;
      return { ...s, inspector: fill(i, action.part, action.body, action.error) };
    }
    case 'toggle':
      return { ...s, open: { ...s.open, [action.path]: action.open } };
    case 'verify-asked':
      return { ...s, verifying: true, verdict: null, verifyError: null };
    case 'verdict':
      if (action.session !== s.session) return s;
      return action.error === null ? { ...s, verifying: false, verdict: parseVerdict(action.body) } : { ...s, verifying: false, verifyError: action.error };
    case 'whatif-edit':
      return { ...s, whatIf: { ...s.whatIf, editing: action.on, draft: action.on ? JSON.stringify(action.payload, null, 2) : s.whatIf.draft, error: null } };
    case 'whatif-draft':
      return { ...s, whatIf: { ...s.whatIf, draft: action.text } };
    case 'whatif-asked':
      return { ...s, whatIf: { ...s.whatIf, busy: true, report: null, error: null } };
    case 'whatif-invalid':
      return { ...s, whatIf: { ...s.whatIf, error: action.error } };
    case 'whatif': {
      if (action.seq !== s.selected) return { ...s, whatIf: { ...s.whatIf, busy: false } };
      // A 404 that is not about the session: a server from before the what-if route.
      const noRoute = action.status === 405 || (action.status === 404 && !(action.error ?? '').startsWith('no such session'));
      if (noRoute) return { ...s, whatIf: { ...s.whatIf, busy: false, unavailable: true } };
      if (action.error !== null) return { ...s, whatIf: { ...s.whatIf, busy: false, error: action.error } };
      return { ...s, whatIf: { ...s.whatIf, busy: false, report: parseWhatIf(action.body), editing: false } };
    }
  }
}

/** The edited payload for a what-if, or why it cannot be sent. */
export function editedPayload(draft: string): { payload: unknown } | { error: string } {
  try {
    return { payload: JSON.parse(draft) as unknown };
  } catch (error) {
    return { error: `The edited payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}
