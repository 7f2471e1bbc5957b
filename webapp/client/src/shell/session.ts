// Who is logged in, what the server offers (catalog, models, jobs), and where the app is.
import { type Reducer } from '@cycle/state';
import xs, { type Stream } from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import * as api from '../api';
import { update, type Sinks, type Sources } from '../component';
import type { HistoryCommand } from '../drivers/history';
import type { HttpResponse } from '../drivers/http';
import { isJob, mergeListed } from '../model/jobs';
import type { AppState, DebugLog, User } from '../model/types';
import { choices } from '../model/workflows';
import { redirect } from './routes';

function asUser(body: unknown): User | null {
  const b = body as Partial<User> | null;
  return b !== null && typeof b === 'object' && typeof b.id === 'number' && typeof b.name === 'string' ? { id: b.id, name: b.name, role: String(b.role ?? 'user') } : null;
}

/** The recorded log a /api/auth/me answer of `rxgen debug` names ({debug: {log, path,
 * read_only}}); null for the server's own answers, which have no such field. */
export function debugOf(body: unknown): DebugLog | null {
  if (body === null || typeof body !== 'object') return null;
  const debug = (body as { debug?: unknown }).debug;
  if (debug === null || typeof debug !== 'object') return null;
  const d = debug as { log?: unknown; path?: unknown; read_only?: unknown };
  if (typeof d.log !== 'string') return null;
  return { log: d.log, path: typeof d.path === 'string' ? d.path : d.log, readOnly: d.read_only !== false };
}

/** The state after an answer of /api/auth/me or of a login. */
export function withSession(state: AppState, response: Pick<HttpResponse, 'ok' | 'body' | 'category'>): AppState {
  const user = response.ok ? asUser(response.body) : null;
  // Only "who am I" says where the page is served from; a login answer keeps what it said.
  const debug = response.category === 'me' ? (user === null ? null : debugOf(response.body)) : state.debug;
  const login = response.ok ? { ...state.login, password: '', busy: false, error: null } : state.login;
  return { ...state, user, debug, authChecked: true, login };
}

/** The node types and the colour per socket type of a GET /api/nodes answer. */
function catalogOf(response: HttpResponse): { nodes: Record<string, unknown>; colors: Record<string, string> } | null {
  if (!response.ok || response.body === null || typeof response.body !== 'object') return null;
  const body = response.body as Record<string, unknown>;
  const nodes = body['nodes'];
  const types = (body['types'] ?? {}) as Record<string, { color?: unknown }>;
  const colors: Record<string, string> = {};
  for (const [name, style] of Object.entries(types)) if (typeof style.color === 'string') colors[name] = style.color;
  return nodes !== null && typeof nodes === 'object' ? { nodes: nodes as Record<string, unknown>, colors } : null;
}

/** Fill empty model/sampler choices from the catalog, so Generate works without touching them. */
function withCatalogDefaults(state: AppState): AppState {
  const cat = state.catalog;
  const first = (node: string, input: string, current: string): string => (current !== '' && choices(cat, node, input).includes(current) ? current : choices(cat, node, input)[0] ?? current);
  return {
    ...state,
    image: {
      ...state.image,
      checkpoint: first('CheckpointLoaderSimple', 'ckpt_name', state.image.checkpoint),
      sampler: first('KSampler', 'sampler_name', state.image.sampler),
      scheduler: first('KSampler', 'scheduler', state.image.scheduler),
    },
    video: { ...state.video, checkpoint: first('TextToVideo', 'model', state.video.checkpoint) },
  };
}

export function Session(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const userId$ = state$.map((s) => s.user?.id ?? null).compose(dropRepeats());
  // A login to the server. Under `rxgen debug` the page is signed in as that app's stand-in
  // user at once, but there is nothing to load (catalog, models, jobs) and no socket.
  const loggedIn$ = state$
    .map((s) => (s.user === null || s.debug !== null ? null : s.user.id))
    .compose(dropRepeats())
    .filter((id): id is number => id !== null);

  const me$ = sources.HTTP.select('me');
  const login$ = sources.HTTP.select('login').filter((r) => r.ok);
  const logout$ = sources.HTTP.select('logout');
  const unauthorized$ = sources.HTTP.select().filter((r) => r.status === 401 && r.category !== 'login');

  const userReducer$ = xs.merge(me$, login$).map((r) => update((s) => withSession(s, r)));
  const loggedOut$ = xs.merge(logout$, unauthorized$).mapTo(update((s) => ({ ...s, user: null, authChecked: true, jobs: {}, connection: 'closed' as const })));

  const catalogReducer$ = sources.HTTP.select('nodes').filter((r) => r.ok).map((r) => {
    const catalog = catalogOf(r);
    return update((s) => (catalog === null ? s : withCatalogDefaults({ ...s, catalog: catalog.nodes, typeColors: catalog.colors })));
  });
  const modelsReducer$ = sources.HTTP.select('models')
    .filter((r) => r.ok && r.body !== null && typeof r.body === 'object')
    .map((r) => {
      const models: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(r.body as Record<string, unknown>)) if (Array.isArray(v)) models[k] = v.filter((x): x is string => typeof x === 'string');
      return update((s) => ({ ...s, models }));
    });
  const jobsReducer$ = sources.HTTP.select('jobs')
    .filter((r) => r.ok)
    .map((r) => {
      const items = ((r.body as { items?: unknown[] }).items ?? []).filter(isJob);
      return update((s) => ({ ...s, jobs: mergeListed(s.jobs, items) }));
    });
  const pathReducer$ = sources.history.map((path) => update((s) => ({ ...s, path })));

  // Startup and every login: who am I, then what the server offers.
  const requests$ = xs.merge(
    xs.of(api.me()),
    loggedIn$.map(() => xs.of(api.nodes(), api.models(), api.jobs(undefined, 100))).flatten(),
  );

  const storedSeq$ = sources.storage.get('session', 'rxgen.lastSeq');
  const ws$ = xs.merge(
    loggedIn$.map(() => storedSeq$.take(1)).flatten().map((stored) => ({ type: 'connect' as const, after: stored !== null && /^\d+$/.test(stored) ? Number(stored) : null })),
    userId$.filter((id) => id === null).drop(1).mapTo({ type: 'disconnect' as const }),
  );

  const redirect$ = state$
    .filter((s) => s.authChecked)
    .map((s) => redirect(s.path, s.user !== null, s.user?.role === 'admin', s.debug !== null))
    .filter((to): to is string => to !== null)
    .map((path): HistoryCommand => ({ type: 'replace', path }));

  const reducers: Stream<Reducer<AppState>>[] = [userReducer$, loggedOut$, catalogReducer$, modelsReducer$, jobsReducer$, pathReducer$];
  return { state: xs.merge(...reducers), HTTP: requests$, ws: ws$, history: redirect$ };
}
