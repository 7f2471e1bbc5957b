// The Debugger tab: reads recorded session logs through /api/logs and never changes the live
// server. Mounted by the shell under the state lens "debugger".
import type { MainDOMSource, VNode } from '@cycle/dom';
import isolate from '@cycle/isolate';
import type { Reducer, StateSource } from '@cycle/state';
import xs, { type Stream } from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import sampleCombine from 'xstream/extra/sampleCombine';
import type { Sinks, Sources } from '../component';
import type { HttpRequest, HttpResponse, HttpSource } from '../drivers/http';
import type { WsMessage } from '../drivers/websocket';
import type { AppState } from '../model/types';
import { pageOf } from '../shell/routes';
import * as api from './api';
import { editedPayload, type PartName } from './inspect';
import { intent } from './intent';
import { initialDebugger } from './model';
import { eventOf } from './records';
import { reduce, type Action } from './reducer';
import { WANTS, type Want } from './requests';
import type { DebuggerState } from './types';
import { debuggerView } from './view';
import './debugger.css';

interface DebuggerSources {
  readonly DOM: MainDOMSource;
  readonly state: StateSource<DebuggerState>;
  readonly HTTP: HttpSource;
  readonly ws: Stream<WsMessage>;
  readonly app: Stream<AppState>;
}

interface DebuggerSinks {
  readonly DOM: Stream<VNode>;
  readonly state: Stream<Reducer<DebuggerState>>;
  readonly HTTP: Stream<HttpRequest>;
}

const tagOf = (r: HttpResponse): Record<string, unknown> => (r.request.tag ?? {}) as Record<string, unknown>;

function answers(http: HttpSource): Stream<Action> {
  const parts: PartName[] = ['state', 'diff', 'records'];
  return xs.merge<Action>(
    http.select('dbg-sessions').map((r): Action => (r.ok ? { type: 'sessions', ...api.parseSessions(r.body) } : { type: 'sessions-failed', error: r.error ?? `HTTP ${r.status}` })),
    http.select('dbg-page').map((r): Action => ({ type: 'page', need: r.request.tag as Extract<Action, { type: 'page' }>['need'], body: r.body, error: r.ok ? null : (r.error ?? `HTTP ${r.status}`) })),
    ...parts.map((part) => http.select(`dbg-${part}`).map((r): Action => ({ type: 'inspected', part, session: String(tagOf(r)['session']), seq: Number(tagOf(r)['seq']), body: r.body, error: r.ok ? null : (r.error ?? `HTTP ${r.status}`) }))),
    http.select('dbg-job').map((r): Action => ({ type: 'job-found', job: String(tagOf(r)['job']), body: r.body, error: r.ok ? null : r.error })),
    http.select('dbg-import').map((r): Action => ({ type: 'imported', name: r.ok ? api.importedName(r.body) : null, error: r.ok ? null : (r.error ?? `HTTP ${r.status}`) })),
    http.select('dbg-verify').map((r): Action => ({ type: 'verdict', session: String(tagOf(r)['session']), body: r.body, error: r.ok ? null : r.error })),
    http.select('dbg-whatif').map((r): Action => ({ type: 'whatif', seq: Number(tagOf(r)['seq']), status: r.status, body: r.body, error: r.ok ? null : r.error })),
  );
}

/** Requests made by a click, which need the state to be built. */
function commands(dom: MainDOMSource, state$: Stream<DebuggerState>): { requests: Stream<HttpRequest>; actions: Stream<Action> } {
  const withState = <T>(s: Stream<T>): Stream<[T, DebuggerState]> => s.compose(sampleCombine(state$)).filter(([, st]) => st.session !== null);
  const job$ = xs.merge(
    dom.select('.dbg-job').events('submit', { preventDefault: true }).map(() => null),
    dom.select('.dbg-job-start').events('click').map((e) => (e.currentTarget as HTMLElement).dataset['job'] ?? ''),
  );
  const jobAsk$ = withState(job$).map(([job, s]) => (job ?? s.jobJump).trim()).filter((j) => j !== '');
  const jobReq$ = withState(jobAsk$).map(([job, s]) => api.jobStart(s.session ?? '', job));
  const verify$ = withState(dom.select('.dbg-verify').events('click')).map(([, s]) => api.verify(s.session ?? ''));
  const drop$ = withState(dom.select('.dbg-drop').events('click')).filter(([, s]) => s.selected !== null).map(([, s]) => api.whatIf(s.session ?? '', s.selected ?? 0, undefined));
  const edited$ = withState(dom.select('.dbg-whatif-form').events('submit', { preventDefault: true })).filter(([, s]) => s.selected !== null).map(([, s]) => ({ s, edit: editedPayload(s.whatIf.draft) }));
  const editReq$ = edited$.filter(({ edit }) => 'payload' in edit).map(({ s, edit }) => api.whatIf(s.session ?? '', s.selected ?? 0, (edit as { payload: unknown }).payload));
  const editBad$ = edited$.filter(({ edit }) => 'error' in edit).map(({ edit }): Action => ({ type: 'whatif-invalid', error: (edit as { error: string }).error }));
  const editOpen$ = withState(dom.select('.dbg-edit').events('click')).map(([, s]): Action => {
    const records = s.inspector?.records;
    const event = records?.status === 'ready' ? eventOf(records.value) : undefined;
    return { type: 'whatif-edit', on: !s.whatIf.editing, payload: event?.value ?? null };
  });
  const import$ = dom
    .select('.dbg-import')
    .events('change')
    .map((e) => (e.target as HTMLInputElement).files?.[0] ?? null)
    .filter((f): f is File => f !== null)
    .map(api.importLog);
  return {
    requests: xs.merge(jobReq$, verify$, drop$, editReq$, import$),
    actions: xs.merge<Action>(verify$.mapTo<Action>({ type: 'verify-asked' }), xs.merge(drop$, editReq$).mapTo<Action>({ type: 'whatif-asked' }), editBad$, editOpen$),
  };
}

function Debugger(sources: DebuggerSources): DebuggerSinks {
  const state$ = sources.state.stream;
  const active$ = sources.app
    .map((s): Action => ({ type: 'active', active: s.user !== null && pageOf(s.path) === 'debugger', admin: s.user?.role === 'admin' }))
    .compose(dropRepeats((a, b) => JSON.stringify(a) === JSON.stringify(b)));
  const activity$ = sources.ws.filter((m) => m.kind === 'event').mapTo<Action>({ type: 'activity' });
  const clicked = commands(sources.DOM, state$);
  const wants = WANTS.map((want) =>
    state$
      .map(want)
      .compose(dropRepeats<Want | null>((a, b) => a?.key === b?.key))
      .filter((w): w is Want => w !== null),
  );
  const want$ = xs.merge(...wants);
  const asked$ = want$.map((w) => w.asked).filter((a): a is Action => a !== null);
  const actions$ = xs.merge(intent(sources.DOM), answers(sources.HTTP), active$, activity$, clicked.actions, asked$);
  const init$ = xs.of<Reducer<DebuggerState>>((prev) => prev ?? initialDebugger());
  const reducer$ = actions$.map((action): Reducer<DebuggerState> => (s) => reduce(s ?? initialDebugger(), action));
  return {
    DOM: state$.filter((s) => s.active).map(debuggerView),
    state: xs.merge(init$, reducer$),
    HTTP: xs.merge(want$.map((w) => xs.fromArray([...w.requests])).flatten(), clicked.requests),
  };
}

/** The screen as the shell mounts it: its own state lens and DOM scope. */
export function DebuggerScreen(sources: Sources): Sinks {
  const scoped = isolate(Debugger as unknown as (s: Record<string, unknown>) => Record<string, unknown>, { state: 'debugger', DOM: 'debugger', '*': null });
  const sinks = scoped({ ...sources, app: sources.state.stream } as unknown as Record<string, unknown>);
  return sinks as unknown as Sinks;
}
