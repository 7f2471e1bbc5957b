import { describe, expect, it } from 'vitest';
import { initialDebugger, timelineKey } from './model';
import { reduce, type Action } from './reducer';
import { wantInspector, wantPage, wantSessions } from './requests';
import { rec } from './testkit';
import { VISIBLE } from './timeline';
import type { DebuggerState, SessionInfo } from './types';

const session = (name: string, live: boolean, last = 100): SessionInfo => ({ name, live, size_bytes: 1, events: last, first_seq: 0, last_seq: last, first_time: 1, last_time: 2, error: null });

const run = (s: DebuggerState, ...actions: Action[]): DebuggerState => actions.reduce(reduce, s);

/** Logged in on the page, two sessions listed, and the first page of the live one answered. */
function opened(rows = Array.from({ length: 100 }, (_, i) => rec(i + 1)), admin = true): DebuggerState {
  let s = run(initialDebugger(), { type: 'active', active: true, admin }, { type: 'sessions', items: [session('old', false, 50), session('now', true, rows.length)], live: 'now' });
  const want = wantPage(s);
  if (want?.asked?.type !== 'page-asked') throw new Error('no page wanted');
  s = run(s, want.asked, { type: 'page', need: want.asked.need, body: { items: rows, next_cursor: null }, error: null });
  return s;
}

describe('opening the debugger', () => {
  it('asks for the sessions once per visit, picks the live one and reads its first page', () => {
    const s0 = initialDebugger();
    expect(wantSessions(s0)).toBeNull();
    const s1 = reduce(s0, { type: 'active', active: true, admin: false });
    expect(wantSessions(s1)?.requests[0]?.url).toBe('/api/logs');
    const s = opened();
    expect(s.session).toBe('now');
    expect(s.timeline.window.rows).toHaveLength(100);
    expect(wantPage(s)).toBeNull();
    expect(wantSessions(reduce(s, { type: 'refresh' }))?.key).toBe('sessions:2');
  });

  it('drops an answer read with other filters', () => {
    const s = opened();
    const asked = { type: 'at' as const, key: 'old|kind=event||', start: 0 };
    const after = reduce(s, { type: 'page', need: asked, body: { items: [rec(1)], next_cursor: null }, error: null });
    expect(after.timeline.window).toBe(s.timeline.window);
  });
});

describe('selecting and stepping', () => {
  it('selects, steps with the keyboard, and keeps the selection on screen', () => {
    let s = run(opened(), { type: 'select', seq: 5 });
    expect(wantInspector(s)?.requests.map((r) => r.url)).toEqual([
      '/api/logs/now/records?kind=event,sink,state&start=5&end=5&limit=1000',
      '/api/logs/now/state?at=5',
      '/api/logs/now/diff?a=4&b=5',
    ]);
    s = run(s, { type: 'step', dir: 1 }, { type: 'step', dir: 1 });
    expect(s.selected).toBe(7);
    for (let i = 0; i < 30; i++) s = reduce(s, { type: 'step', dir: 1 });
    expect(s.selected).toBe(37);
    expect(s.timeline.anchor.seq).toBe(37 - VISIBLE + 1);
    s = run(s, { type: 'edge', end: false });
    expect(s.selected).toBe(1);
    expect(s.timeline.anchor.seq).toBe(1);
  });

  it('jumps to a seq outside the window and reads it there', () => {
    let s = run(opened(Array.from({ length: 30 }, (_, i) => rec(i + 1))), { type: 'sessions', items: [session('now', true, 5000)], live: 'now' });
    s = run(s, { type: 'jump-text', value: '4000' }, { type: 'jump' });
    expect(s.selected).toBe(4000);
    expect(wantPage(s)?.requests[0]?.url).toBe('/api/logs/now/records?kind=event&start=4000&limit=200');
    expect(run(s, { type: 'jump-text', value: 'x' }, { type: 'jump' }).selected).toBe(4000);
  });

  it('goes to the first event of a job', () => {
    const s = run(opened(), { type: 'job-found', job: 'j9', body: { items: [rec(42)], next_cursor: '43.0' }, error: null });
    expect(s.selected).toBe(42);
    const none = run(opened(), { type: 'job-found', job: 'j9', body: { items: [], next_cursor: null }, error: null });
    expect(none.jobError).toBe('No event of job j9 in this session.');
  });

  it('fills the inspector only with answers for the selected seq', () => {
    let s = run(opened(), { type: 'select', seq: 5 }, { type: 'inspect-asked', session: 'now', seq: 5 });
    expect(wantInspector(s)).toBeNull();
    s = run(s, { type: 'inspected', part: 'state', session: 'now', seq: 4, body: { state: { old: 1 } }, error: null });
    expect(s.inspector?.state.status).toBe('loading');
    s = run(s, { type: 'inspected', part: 'state', session: 'now', seq: 5, body: { state: { n: 5 } }, error: null }, { type: 'inspected', part: 'diff', session: 'now', seq: 5, body: null, error: 'HTTP 500' });
    expect(s.inspector?.state).toEqual({ status: 'ready', value: { n: 5 } });
    expect(s.inspector?.diff).toEqual({ status: 'failed', error: 'HTTP 500' });
  });
});

describe('filters', () => {
  it('applies drafts only when valid, and reads with the new key', () => {
    let s = run(opened(), { type: 'draft', field: 'start', value: '20' }, { type: 'draft', field: 'end', value: '10' }, { type: 'apply' });
    expect(s.filterError).toBe('The last seq (10) is before the first (20).');
    s = run(s, { type: 'draft', field: 'end', value: '' }, { type: 'kind', kind: 'sink', on: true }, { type: 'apply' });
    expect(s.filterError).toBeNull();
    expect(timelineKey(s)).toBe('now|kind=event,sink|20|');
    expect(wantPage(s)?.requests[0]?.url).toBe('/api/logs/now/records?kind=event,sink&start=20&limit=200');
  });
});

describe('live following', () => {
  it('follows only the live session, reads the tail on activity and pauses on a step', () => {
    let s = run(opened(), { type: 'follow', on: true });
    expect(s.following).toBe(true);
    expect(s.timeline.anchor.seq).toBe(100 - VISIBLE + 1);
    const tail = wantPage(s);
    expect(tail?.asked).toMatchObject({ type: 'page-asked', need: { type: 'after', tail: true } });
    s = run(s, tail?.asked as Action, { type: 'page', need: (tail?.asked as Extract<Action, { type: 'page-asked' }>).need, body: { items: [rec(101), rec(102)], next_cursor: null }, error: null });
    expect(s.timeline.anchor.seq).toBe(102 - VISIBLE + 1);
    expect(s.sessions.find((x) => x.name === 'now')?.last_seq).toBe(102);
    expect(wantPage(s)).toBeNull(); // nothing new happened since
    expect(wantPage(reduce(s, { type: 'activity' }))?.key).toContain('#');
    expect(run(s, { type: 'step', dir: -1 }).following).toBe(false);
    expect(run(s, { type: 'pick', name: 'old' }, { type: 'follow', on: true }).following).toBe(false);
  });

  it('does not retry a failed page until the user moves', () => {
    const s = run(opened(Array.from({ length: 30 }, (_, i) => rec(i + 1))), { type: 'sessions', items: [session('now', true, 5000)], live: 'now' });
    const failed = run(s, { type: 'scrub', seq: 600 }, { type: 'page-asked', need: { type: 'at', key: timelineKey(s), start: 600 } }, { type: 'page', need: { type: 'at', key: timelineKey(s), start: 600 }, body: null, error: 'HTTP 409: log unreadable' });
    expect(failed.timeline.error).toBe('HTTP 409: log unreadable');
    expect(wantPage(failed)).toBeNull();
    expect(wantPage(reduce(failed, { type: 'scrub', seq: 700 }))?.requests[0]?.url).toContain('start=700');
  });
});

describe('verify and what-if', () => {
  it('shows the verdict of the session it was asked for', () => {
    let s = run(opened(), { type: 'verify-asked' });
    expect(s.verifying).toBe(true);
    s = run(s, { type: 'verdict', session: 'now', body: { ok: false, events: 9, sinks: 3, states: 9, divergence: 'seq 4: sink differs' }, error: null });
    expect(s.verdict).toEqual({ ok: false, events: 9, sinks: 3, states: 9, divergence: 'seq 4: sink differs' });
    expect(s.verifying).toBe(false);
  });

  it('says when the server has no what-if route, and keeps a report for the selected seq', () => {
    const s = run(opened(), { type: 'select', seq: 3 }, { type: 'whatif-asked' });
    expect(run(s, { type: 'whatif', seq: 3, status: 404, body: null, error: 'Not Found' }).whatIf.unavailable).toBe(true);
    const done = run(s, { type: 'whatif', seq: 3, status: 200, body: { seq: 3, action: 'drop', first_difference: null, compared_through: 100, complete: true }, error: null });
    expect(done.whatIf.report?.comparedThrough).toBe(100);
    expect(run(s, { type: 'select', seq: 4 }).whatIf.busy).toBe(false);
  });
});

describe('importing a session bundle', () => {
  it('reloads the session list and opens the imported session', () => {
    const s = opened();
    const visits = s.visits;
    const after = reduce(s, { type: 'imported', name: 'imported-1', error: null });
    expect(after.session).toBe('imported-1');
    expect(after.visits).toBe(visits + 1);
    expect(wantSessions(after)?.requests[0]?.url).toBe('/api/logs');
    expect(after.importNote).toContain('imported-1');
  });

  it('says why an import failed and keeps the current session', () => {
    const s = opened();
    const after = reduce(s, { type: 'imported', name: null, error: 'not an importable bundle' });
    expect(after.session).toBe('now');
    expect(after.importNote).toBe('Import failed: not an importable bundle');
  });
});

describe('a read-only debugger (rxgen debug)', () => {
  it('remembers that sessions cannot be exported or imported there', () => {
    const s = run(initialDebugger(), { type: 'active', active: true, admin: true }, { type: 'sessions', items: [session('one', false, 10)], live: null, readOnly: true });
    expect(s.readOnly).toBe(true);
    expect(run(s, { type: 'sessions', items: [session('one', false, 10)], live: null }).readOnly).toBe(false);
  });
});
