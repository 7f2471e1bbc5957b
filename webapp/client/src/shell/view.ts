// The frame around every screen: skip link, navigation, who is logged in, connection state,
// toasts. Screens render into <main>.
import { h, type VNode } from '@cycle/dom';
import type { AppState } from '../model/types';
import { navPages, pageOf, pathOf, TITLES } from './routes';

const CONNECTION: Readonly<Record<AppState['connection'], string>> = { open: 'live', connecting: 'connecting…', closed: 'offline' };

/** What the header says the page is connected to: the server's live events, or under
 * `rxgen debug` the recorded log it reads (there is no socket to be offline from). */
export function connectionStatus(state: Pick<AppState, 'connection' | 'debug'>): { readonly kind: string; readonly text: string; readonly title: string } {
  if (state.debug !== null) {
    const mode = state.debug.readOnly ? ' (read-only)' : '';
    return { kind: 'debug', text: `log file ${state.debug.log}${mode}`, title: `the recorded log this debugger reads: ${state.debug.path}` };
  }
  return { kind: state.connection, text: CONNECTION[state.connection], title: 'connection to the server' };
}

export function frame(state: AppState, screen: VNode | null): VNode {
  const page = pageOf(state.path);
  const user = state.user;
  const nav = navPages(user?.role ?? null, state.debug !== null);
  const status = connectionStatus(state);
  return h('div.app', [
    h('a.skip-link', { attrs: { href: '#main' } }, 'Skip to content'),
    h('header.topbar', [
      h('span.brand', 'rxgen'),
      nav.length === 0
        ? null
        : h('nav', { attrs: { 'aria-label': 'Main' } }, [
            h(
              'ul',
              nav.map((p) => h('li', [h('a.nav-link', { attrs: { href: pathOf(p), 'aria-current': p === page ? 'page' : 'false' }, class: { current: p === page } }, TITLES[p])])),
            ),
          ]),
      user === null
        ? null
        : h('div.user', [
            h(`span.connection.${status.kind}`, { attrs: { role: 'status', 'aria-live': 'polite', title: status.title } }, status.text),
            // Under `rxgen debug` there are no jobs to be notified of and no one to log out.
            state.debug === null && state.permission === 'default' ? h('button.ask-notify', { attrs: { type: 'button' } }, 'Enable notifications') : null,
            state.debug === null ? h('span.who', `${user.name} (${user.role})`) : null,
            state.debug === null ? h('button.logout', { attrs: { type: 'button' } }, 'Log out') : null,
          ].filter((v): v is VNode => v !== null)),
    ].filter((v): v is VNode => v !== null)),
    h('main#main', { attrs: { tabindex: -1 } }, screen === null ? [h('p', { attrs: { role: 'status' } }, 'Loading…')] : [screen]),
    h(
      'div.toasts',
      { attrs: { role: 'region', 'aria-label': 'Notifications', 'aria-live': 'polite' } },
      state.toasts.map((t) =>
        h(`div.toast.${t.kind}`, { key: t.id }, [
          h('span', t.text),
          h('button.toast-close', { attrs: { type: 'button', 'data-toast': t.id, 'aria-label': 'Dismiss notification' } }, '×'),
        ]),
      ),
    ),
  ]);
}
