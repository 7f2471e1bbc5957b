// The root component: the shell (session, live events, navigation) and one screen at a time.
import type { VNode } from '@cycle/dom';
import type { Reducer } from '@cycle/state';
import xs, { type Stream } from 'xstream';
import * as api from './api';
import { update, type Sinks, type Sources } from './component';
import { IMAGE_KEYS, VIDEO_KEYS, initialImage, initialState, initialVideo, restore } from './model/initial';
import type { AppState } from './model/types';
import { Admin } from './screens/admin';
import { Gallery } from './screens/gallery';
import { ImageScreen } from './screens/image';
import { Login } from './screens/login';
import { Queue } from './screens/queue';
import { Video } from './screens/video';
import { DebuggerScreen } from './debugger';
import { EditorHost } from './shell/editor-host';
import { Live } from './shell/live';
import { pageOf, type Page } from './shell/routes';
import { Session } from './shell/session';
import { frame } from './shell/view';

type Key = Exclude<keyof Sinks, 'DOM'>;
const CHANNELS: readonly Key[] = ['state', 'HTTP', 'ws', 'history', 'storage', 'notify', 'random', 'mask', 'canvas', 'download', 'files'];

export function App(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const screens: Readonly<Record<Page, Sinks>> = {
    login: Login(sources),
    image: ImageScreen(sources),
    video: Video(sources),
    editor: EditorHost(sources),
    gallery: Gallery(sources),
    queue: Queue(sources),
    debugger: DebuggerScreen(sources),
    admin: Admin(sources),
  };
  const parts: Sinks[] = [Session(sources), Live(sources), ...Object.values(screens)];

  const init$ = sources.history.take(1).map((path) => ((): AppState => initialState(path)) as Reducer<AppState>);
  const restore$ = xs
    .combine(sources.storage.get('local', 'rxgen.image').take(1), sources.storage.get('local', 'rxgen.video').take(1))
    .map(([image, video]) => update((s) => ({ ...s, image: restore(initialImage, image, IMAGE_KEYS), video: restore(initialVideo, video, VIDEO_KEYS) })));

  // Shell actions: navigation by links, logout, cancel from any screen.
  const navigate$ = sources.DOM.select('a.nav-link')
    .events('click', { preventDefault: true })
    .map((e) => ({ type: 'push' as const, path: (e.currentTarget as HTMLAnchorElement).getAttribute('href') ?? '/app/image' }));
  const logout$ = sources.DOM.select('button.logout').events('click').mapTo(api.logout());
  const cancel$ = sources.DOM.select('button.cancel').events('click').map((e) => (e.currentTarget as HTMLElement).dataset['job'] ?? '');
  const cancelAnswer$ = sources.HTTP.select('cancel');
  const shellReducer$ = xs.merge(
    cancel$.map((id) => update((s) => (s.jobs[id] === undefined ? s : { ...s, jobs: { ...s.jobs, [id]: { ...s.jobs[id], cancelling: true } } }))),
    cancelAnswer$.filter((r) => !r.ok).map((r) => update((s) => {
      const id = String(r.request.tag);
      const job = s.jobs[id];
      return job === undefined ? s : { ...s, jobs: { ...s.jobs, [id]: { ...job, cancelling: false } } };
    })),
  );

  const merged = (key: Key): Stream<unknown> => xs.merge(...parts.map((p) => (p[key] as Stream<unknown> | undefined) ?? xs.never()));
  const screenDom$ = xs
    .combine(state$, ...(Object.entries(screens) as [Page, Sinks][]).map(([page, sinks]) => (sinks.DOM ?? xs.of(null)).map((vnode) => [page, vnode] as const).startWith([page, null])))
    .map(([state, ...rendered]) => {
      const page = pageOf(state.path);
      const found = rendered.find(([p]) => p === page);
      return frame(state, (found?.[1] as VNode | null | undefined) ?? null);
    });

  const sinks: Record<string, Stream<unknown>> = {};
  for (const key of CHANNELS) sinks[key] = merged(key);
  sinks['state'] = xs.merge(init$ as Stream<unknown>, restore$ as Stream<unknown>, shellReducer$ as Stream<unknown>, sinks['state'] as Stream<unknown>);
  sinks['HTTP'] = xs.merge(sinks['HTTP'] as Stream<unknown>, logout$, cancel$.map(api.cancel));
  sinks['history'] = xs.merge(sinks['history'] as Stream<unknown>, navigate$);
  return { ...(sinks as Sinks), DOM: screenDom$ };
}
