// History driver: paths to push in, the current path out (initial, pushes and back/forward).
import xs, { type MemoryStream, type Stream } from 'xstream';

export type HistoryCommand = { readonly type: 'push' | 'replace'; readonly path: string };

export function makeHistoryDriver(win: Window = window) {
  return function historyDriver(command$: Stream<HistoryCommand>): MemoryStream<string> {
    const path$ = xs.createWithMemory<string>();
    const current = (): string => win.location.pathname + win.location.search;
    win.addEventListener('popstate', () => path$.shamefullySendNext(current()));
    command$.addListener({
      next: (command) => {
        if (command.path === current()) return;
        if (command.type === 'push') win.history.pushState(null, '', command.path);
        else win.history.replaceState(null, '', command.path);
        path$.shamefullySendNext(current());
      },
      error: () => undefined,
      complete: () => undefined,
    });
    path$.shamefullySendNext(current());
    return path$;
  };
}
