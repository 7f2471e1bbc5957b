import { h } from '@cycle/dom';
import xs from 'xstream';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import { update, type Sinks, type Sources } from '../component';
import { field } from '../ui';

export function Login(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const name$ = sources.DOM.select('#login-name').events('input').map((e) => (e.target as HTMLInputElement).value);
  const password$ = sources.DOM.select('#login-password').events('input').map((e) => (e.target as HTMLInputElement).value);
  const submit$ = sources.DOM.select('form.login').events('submit', { preventDefault: true });
  const answer$ = sources.HTTP.select('login');

  const request$ = submit$.compose(sampleCombine(state$)).map(([, s]) => api.login(s.login.name, s.login.password));
  const reducer$ = xs.merge(
    name$.map((name) => update((s) => ({ ...s, login: { ...s.login, name } }))),
    password$.map((password) => update((s) => ({ ...s, login: { ...s.login, password } }))),
    submit$.mapTo(update((s) => ({ ...s, login: { ...s.login, busy: true, error: null } }))),
    answer$.filter((r) => !r.ok).map((r) => update((s) => ({ ...s, login: { ...s.login, busy: false, error: r.error ?? 'login failed' } }))),
  );

  const dom$ = state$.map((s) =>
    h('section.screen.login-screen', { attrs: { 'aria-labelledby': 'login-title' } }, [
      h('form.login.card', { attrs: { novalidate: true } }, [
        h('h1#login-title', 'Log in to rxgen'),
        field('login-name', 'User name', h('input', { attrs: { id: 'login-name', name: 'username', autocomplete: 'username', required: true }, props: { value: s.login.name } })),
        field('login-password', 'Password', h('input', { attrs: { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }, props: { value: s.login.password } })),
        s.login.error === null ? null : h('p.error', { attrs: { role: 'alert' } }, s.login.error),
        h('button.primary', { attrs: { type: 'submit', disabled: s.login.busy } }, s.login.busy ? 'Logging in…' : 'Log in'),
      ]),
    ]),
  );
  return { DOM: dom$, state: reducer$, HTTP: request$ };
}
