// The frame around every screen: skip link, navigation, who is logged in, connection state,
// toasts. Screens render into <main>.
import { h, type VNode } from '@cycle/dom';
import type { AppState } from '../model/types';
import { pageOf, pathOf, TITLES, type Page } from './routes';

const NAV: readonly Page[] = ['image', 'video', 'editor', 'gallery', 'queue', 'debugger', 'admin'];

const CONNECTION: Readonly<Record<AppState['connection'], string>> = { open: 'live', connecting: 'connecting…', closed: 'offline' };

export function frame(state: AppState, screen: VNode | null): VNode {
  const page = pageOf(state.path);
  const user = state.user;
  const nav = user === null ? [] : NAV.filter((p) => p !== 'admin' || user.role === 'admin');
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
            h(`span.connection.${state.connection}`, { attrs: { role: 'status', 'aria-live': 'polite', title: 'connection to the server' } }, CONNECTION[state.connection]),
            state.permission === 'default' ? h('button.ask-notify', { attrs: { type: 'button' } }, 'Enable notifications') : null,
            h('span.who', `${user.name} (${user.role})`),
            h('button.logout', { attrs: { type: 'button' } }, 'Log out'),
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
