// Admin: list and create users; list, issue and revoke API tokens (a token's secret is shown
// once, when issued; the lists never carry secrets).
import { h, type VNode } from '@cycle/dom';
import xs from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import { update, type Sinks, type Sources } from '../component';
import { ownerName, parseTokens, parseUsers, shortTime } from '../model/admin';
import type { AdminState, AppState } from '../model/types';
import { field, select } from '../ui';

const setAdmin = (change: (a: AdminState) => AdminState) => update((s) => ({ ...s, admin: change(s.admin) }));
const value = (e: Event): string => (e.target as HTMLInputElement).value;

function table(caption: string, head: readonly string[], rows: VNode[], empty: string): VNode {
  return h('div.card', [
    h('h2', caption),
    rows.length === 0
      ? h('p', empty)
      : h('table.admin-table', [h('thead', [h('tr', head.map((c) => h('th', { attrs: { scope: 'col' } }, c)))]), h('tbody', rows)]),
  ]);
}

function usersTable(a: AdminState): VNode {
  const rows = a.users.map((u) => h('tr', { key: u.id }, [h('th', { attrs: { scope: 'row' } }, u.name), h('td', u.role), h('td', u.disabled ? 'disabled' : 'active'), h('td', shortTime(u.created_at))]));
  return table(`Users (${a.users.length})`, ['Name', 'Role', 'Status', 'Created'], rows, a.loading ? 'Loading…' : 'No users listed.');
}

function tokensTable(a: AdminState): VNode {
  const rows = a.tokens.map((t) =>
    h('tr', { key: t.id }, [
      h('th', { attrs: { scope: 'row' } }, t.name),
      h('td', ownerName(a.users, t.user_id)),
      h('td', t.scopes.join(', ')),
      h('td', shortTime(t.created_at)),
      h('td', t.last_used_at === null || t.last_used_at === undefined ? 'never' : shortTime(t.last_used_at)),
      h('td', [h('button.revoke', { attrs: { type: 'button', 'data-token': t.id, 'aria-label': `Revoke token ${t.name}` } }, 'Revoke')]),
    ]),
  );
  return table(`API tokens (${a.tokens.length})`, ['Name', 'Owner', 'Scopes', 'Created', 'Last used', 'Action'], rows, a.loading ? 'Loading…' : 'No API tokens.');
}

export function adminView(state: AppState) {
  const a = state.admin;
  return h('section.screen.admin', { attrs: { 'aria-labelledby': 'admin-title' } }, [
    h('h1#admin-title', 'Users and API tokens'),
    h('div.workspace-grid', [
      h('form.user-form.card', [
        h('h2', 'New user'),
        field('user-name', 'Name', h('input', { attrs: { id: 'user-name', autocomplete: 'off' }, props: { value: a.newUser.name } })),
        field('user-password', 'Password', h('input', { attrs: { id: 'user-password', type: 'password', autocomplete: 'new-password' }, props: { value: a.newUser.password } })),
        field('user-role', 'Role', select('user-role', a.newUser.role, ['user', 'admin'])),
        h('button.primary', { attrs: { type: 'submit' } }, 'Create user'),
      ]),
      h('form.token-form.card', [
        h('h2', 'New API token'),
        field('token-name', 'Name', h('input', { attrs: { id: 'token-name', autocomplete: 'off' }, props: { value: a.tokenName } })),
        h('fieldset', [
          h('legend', 'Scopes'),
          ...['read', 'write'].map((scope) => h('label.checkbox', [h('input.scope', { attrs: { type: 'checkbox', value: scope }, props: { checked: a.tokenScopes.includes(scope) } }), ` ${scope}`])),
        ]),
        h('button.primary', { attrs: { type: 'submit' } }, 'Issue token'),
        a.issuedToken === null ? null : h('p.token', ['Copy it now, it is not shown again: ', h('code', a.issuedToken)]),
      ]),
    ]),
    h('div', { attrs: { role: 'status', 'aria-live': 'polite' } }, [a.message === null ? '' : a.message]),
    a.error === null ? null : h('p.error', { attrs: { role: 'alert' } }, a.error),
    h('div.workspace-grid.admin-lists', [usersTable(a), tokensTable(a)]),
  ]);
}

export function Admin(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const dom = sources.DOM;
  const userSubmit$ = dom.select('form.user-form').events('submit', { preventDefault: true });
  const tokenSubmit$ = dom.select('form.token-form').events('submit', { preventDefault: true });
  const revoke$ = dom.select('button.revoke').events('click').map((e) => (e.currentTarget as HTMLElement).dataset['token'] ?? '');
  const created$ = sources.HTTP.select('user-create');
  const issued$ = sources.HTTP.select('token-create');
  const revoked$ = sources.HTTP.select('token-revoke');
  const onAdmin$ = state$.map((s) => s.path.startsWith('/app/admin') && s.user?.role === 'admin' && s.debug === null).compose(dropRepeats()).filter(Boolean);
  // The lists are read again after every change, so they show what the server now holds.
  const reload$ = xs.merge(onAdmin$, created$.filter((r) => r.ok), issued$.filter((r) => r.ok), revoked$.filter((r) => r.ok));
  const users$ = sources.HTTP.select('users');
  const tokens$ = sources.HTTP.select('tokens');

  const http$ = xs.merge(
    userSubmit$.compose(sampleCombine(state$)).map(([, s]) => api.createUser(s.admin.newUser.name, s.admin.newUser.password, s.admin.newUser.role)),
    tokenSubmit$.compose(sampleCombine(state$)).map(([, s]) => api.createToken(s.admin.tokenName || 'browser', s.admin.tokenScopes)),
    revoke$.map(api.revokeToken),
    reload$.map(() => xs.of(api.users(), api.tokens())).flatten(),
  );
  const fail = (r: { error: string | null }) => setAdmin((a) => ({ ...a, error: r.error, message: null }));
  const reducer$ = xs.merge(
    onAdmin$.mapTo(setAdmin((a) => ({ ...a, loading: true }))),
    users$.map((r) => (r.ok ? setAdmin((a) => ({ ...a, loading: false, users: parseUsers(r.body) })) : fail(r))),
    tokens$.map((r) => (r.ok ? setAdmin((a) => ({ ...a, loading: false, tokens: parseTokens(r.body) })) : fail(r))),
    dom.select('#user-name').events('input').map((e) => setAdmin((a) => ({ ...a, newUser: { ...a.newUser, name: value(e) } }))),
    dom.select('#user-password').events('input').map((e) => setAdmin((a) => ({ ...a, newUser: { ...a.newUser, password: value(e) } }))),
    dom.select('#user-role').events('change').map((e) => setAdmin((a) => ({ ...a, newUser: { ...a.newUser, role: value(e) } }))),
    dom.select('#token-name').events('input').map((e) => setAdmin((a) => ({ ...a, tokenName: value(e) }))),
    dom.select('input.scope').events('change').map((e) => {
      const box = e.target as HTMLInputElement;
      return setAdmin((a) => ({ ...a, tokenScopes: box.checked ? [...new Set([...a.tokenScopes, box.value])] : a.tokenScopes.filter((x) => x !== box.value) }));
    }),
    created$.map((r) => (r.ok ? setAdmin((a) => ({ ...a, message: `User ${a.newUser.name} created.`, error: null, newUser: { name: '', password: '', role: 'user' } })) : fail(r))),
    issued$.map((r) => {
      const t = r.body as { id?: unknown; name?: unknown; scopes?: unknown; token?: unknown };
      return r.ok
        ? setAdmin((a) => ({ ...a, error: null, message: 'Token issued.', issuedToken: String(t.token), tokens: [...a.tokens, { id: String(t.id), name: String(t.name), scopes: Array.isArray(t.scopes) ? t.scopes.map(String) : [] }] }))
        : fail(r);
    }),
    revoked$.map((r) => (r.ok ? setAdmin((a) => ({ ...a, error: null, message: 'Token revoked.', issuedToken: null, tokens: a.tokens.filter((t) => t.id !== r.request.tag) })) : fail(r))),
  );
  return { DOM: state$.map(adminView), HTTP: http$, state: reducer$ };
}
