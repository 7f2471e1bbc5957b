// The client under `rxgen debug LOGFILE`: it learns so from the /api/auth/me answer, then offers
// only the debugger, says which log it reads instead of "offline", and never opens /api/ws.
import type { VNode } from '@cycle/dom';
import { beforeAll, describe, expect, it } from 'vitest';
import xs, { type Stream } from 'xstream';
import type { Sources } from '../component';
import type { HttpRequest, HttpResponse } from '../drivers/http';
import { initialState } from '../model/initial';
import type { AppState } from '../model/types';
import { navPages, redirect } from '../shell/routes';
import { debugOf, Session, withSession } from '../shell/session';

// snabbdom reads `window` when @cycle/dom loads; plain Node has none, so load the view afterwards.
let connectionStatus: typeof import('../shell/view').connectionStatus;
let frame: typeof import('../shell/view').frame;
beforeAll(async () => {
  (globalThis as { window?: unknown }).window ??= globalThis;
  ({ connectionStatus, frame } = await import('../shell/view'));
});

const DEBUG_ME = { id: 0, name: 'debug', role: 'admin', via: 'open', csrf_token: null, debug: { log: '20260101-000000', path: '/tmp/logs/20260101-000000', read_only: true } };
const SERVER_ME = { id: 1, name: 'admin', role: 'admin', via: 'session', csrf_token: 'x' };
const answer = (category: string, body: unknown, ok = true): HttpResponse => ({ category, request: { category, url: '/api/auth/me' }, status: ok ? 200 : 401, ok, body, error: ok ? null : 'HTTP 401' });

const debugState = (path: string): AppState => withSession(initialState(path), answer('me', DEBUG_ME));
const serverState = (path: string): AppState => withSession(initialState(path), answer('me', SERVER_ME));

/** Every text and attribute of a vnode tree, flattened, to look for what the frame shows. */
function walk(node: VNode | string | undefined, visit: (n: VNode) => void): void {
  if (node === undefined || typeof node === 'string') return;
  visit(node);
  for (const child of node.children ?? []) walk(child as VNode | string, visit);
}
const select = (root: VNode, cls: string): VNode[] => {
  const found: VNode[] = [];
  walk(root, (n) => {
    if ((n.sel ?? '').split('.').includes(cls)) found.push(n);
  });
  return found;
};
const textOf = (n: VNode): string => {
  let out = n.text ?? '';
  for (const c of n.children ?? []) out += typeof c === 'string' ? c : textOf(c as VNode);
  return out;
};

describe('debug mode: what the /api/auth/me answer says', () => {
  it("reads rxgen debug's log from the answer; the server's answer has none", () => {
    expect(debugOf(DEBUG_ME)).toEqual({ log: '20260101-000000', path: '/tmp/logs/20260101-000000', readOnly: true });
    expect(debugOf(SERVER_ME)).toBeNull();
    expect(debugOf({ debug: { path: '/x' } })).toBeNull();
    expect(debugOf({ debug: null })).toBeNull();
    expect(debugOf(null)).toBeNull();
    expect(debugOf({ debug: { log: 'a' } })).toEqual({ log: 'a', path: 'a', readOnly: true });
  });

  it('sets the user and the mode in one step; a login answer keeps the mode', () => {
    const s = debugState('/');
    expect(s.user).toEqual({ id: 0, name: 'debug', role: 'admin' });
    expect(s.debug?.log).toBe('20260101-000000');
    expect(s.authChecked).toBe(true);
    expect(serverState('/').debug).toBeNull();
    expect(withSession(s, answer('login', SERVER_ME)).debug).toBe(s.debug);
    expect(withSession(s, answer('me', null, false))).toMatchObject({ user: null, debug: null });
  });
});

describe('debug mode: routes and navigation', () => {
  it('sends every other path, "/" included, to the debugger', () => {
    for (const path of ['/', '/app/image', '/app/editor', '/app/admin', '/app/login', '/app/nope']) expect(redirect(path, true, true, true)).toBe('/app/debugger');
    expect(redirect('/app/debugger', true, true, true)).toBeNull();
    expect(redirect('/app/debugger?x=1', true, true, true)).toBeNull();
    // The server's own routing is unchanged.
    expect(redirect('/', true, true, false)).toBe('/app/image');
    expect(redirect('/app/debugger', true, false, false)).toBeNull();
  });

  it('offers only the debugger', () => {
    expect(navPages('admin', true)).toEqual(['debugger']);
    expect(navPages('admin', false)).toEqual(['image', 'video', 'editor', 'gallery', 'queue', 'debugger', 'admin']);
    expect(navPages('user', false)).toEqual(['image', 'video', 'editor', 'gallery', 'queue', 'debugger']);
    expect(navPages(null, true)).toEqual([]);
  });
});

describe('debug mode: the header', () => {
  it('names the log instead of saying offline', () => {
    const s = debugState('/app/debugger');
    expect(s.connection).toBe('closed');
    expect(connectionStatus(s)).toEqual({ kind: 'debug', text: 'log file 20260101-000000 (read-only)', title: 'the recorded log this debugger reads: /tmp/logs/20260101-000000' });
    expect(connectionStatus(serverState('/app/image')).text).toBe('offline');
    expect(connectionStatus({ ...serverState('/app/image'), connection: 'open' }).text).toBe('live');
  });

  it('renders one nav link, the log status, and no logout or notification buttons', () => {
    const root = frame(debugState('/app/debugger'), null);
    const links = select(root, 'nav-link');
    expect(links.map(textOf)).toEqual(['Debugger']);
    expect(links[0]?.data?.attrs?.['aria-current']).toBe('page');
    expect(select(root, 'connection').map(textOf)).toEqual(['log file 20260101-000000 (read-only)']);
    expect(select(root, 'logout')).toEqual([]);
    expect(select(root, 'ask-notify')).toEqual([]);

    const normal = frame(serverState('/app/image'), null);
    expect(select(normal, 'nav-link')).toHaveLength(7);
    expect(select(normal, 'connection').map(textOf)).toEqual(['offline']);
    expect(select(normal, 'logout')).toHaveLength(1);
  });
});

/** Run Session on a fixed state: what it asks of the HTTP, socket and history drivers. */
function sessionSinks(state: AppState): { http: HttpRequest[]; ws: unknown[]; history: unknown[] } {
  const seen = { http: [] as HttpRequest[], ws: [] as unknown[], history: [] as unknown[] };
  const sources = {
    state: { stream: xs.of(state).remember() },
    HTTP: { select: () => xs.never() },
    history: xs.of(state.path).remember(),
    storage: { get: () => xs.of(null).remember() },
  } as unknown as Sources;
  const sinks = Session(sources);
  const listen = <T>(s: Stream<T> | undefined, into: unknown[]): void => {
    s?.addListener({ next: (x) => into.push(x), error: () => undefined, complete: () => undefined });
  };
  listen(sinks.HTTP, seen.http);
  listen(sinks.ws, seen.ws);
  listen(sinks.history, seen.history);
  return seen;
}

describe('debug mode: the session asks for nothing the debug app lacks', () => {
  it('opens no socket and loads no catalog, models or jobs; "/" goes to the debugger', () => {
    const seen = sessionSinks(debugState('/'));
    expect(seen.http.map((r) => r.url)).toEqual(['/api/auth/me']);
    expect(seen.ws).toEqual([]);
    expect(seen.history).toEqual([{ type: 'replace', path: '/app/debugger' }]);
  });

  it('on the server, a signed-in page loads what the server offers and connects', () => {
    const seen = sessionSinks(serverState('/app/image'));
    expect(seen.http.map((r) => r.category)).toEqual(['me', 'nodes', 'models', 'jobs']);
    expect(seen.ws).toEqual([{ type: 'connect', after: null }]);
    expect(seen.history).toEqual([]);
  });
});
