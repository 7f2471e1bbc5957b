import { describe, expect, it } from 'vitest';
import { ancestors, childPath, diffRows, marks, preview, treeRows } from './tree';

const state = { core: { queue: { lanes: { '1': ['a', 'b'] }, turn: 2, $t: 'q:QueueState' }, cache: { k: 1 } }, 'a/b': { '~x': true } };

describe('tree view model', () => {
  it('escapes keys into JSON pointers and lists ancestors', () => {
    expect(childPath('', 'a/b')).toBe('/a~1b');
    expect(childPath('/a~1b', '~x')).toBe('/a~1b/~0x');
    expect(ancestors('/core/queue/turn')).toEqual(['/core', '/core/queue']);
    expect(ancestors('/core')).toEqual([]);
  });

  it('opens the top level, and the way to every change, and nothing else by default', () => {
    const m = marks([{ op: 'changed', path: '/core/queue/turn', before: 1, after: 2 }]);
    const view = treeRows(state, {}, m);
    expect(view.rows.map((r) => [r.path, r.open, r.mark])).toEqual([
      ['/core', true, 'inside'],
      ['/core/queue', true, 'inside'],
      ['/core/queue/lanes', false, null],
      ['/core/queue/turn', false, 'changed'],
      ['/core/cache', false, null],
      ['/a~1b', true, null],
      ['/a~1b/~0x', false, null],
    ]);
    expect(view.rows.find((r) => r.path === '/core/queue')?.preview).toBe('QueueState {3}');
  });

  it('follows the nodes opened or closed by hand', () => {
    const view = treeRows(state, { '/core': false, '/a~1b': false }, new Map());
    expect(view.rows.map((r) => r.path)).toEqual(['/core', '/a~1b']);
    const deeper = treeRows(state, { '/core/queue/lanes': true, '/core/queue': true }, new Map());
    expect(deeper.rows.map((r) => r.path)).toContain('/core/queue/lanes/1');
  });

  it('marks removed paths only through their ancestors (what sits there now is another value)', () => {
    const m = marks([{ op: 'removed', path: '/core/queue/lanes/1/0', before: 'z', after: null }, { op: 'added', path: '/core/cache/k', before: null, after: 1 }]);
    expect(m.get('/core/queue/lanes/1/0')).toBeUndefined();
    expect(m.get('/core/queue/lanes/1')).toBe('inside');
    expect(m.get('/core/cache/k')).toBe('added');
  });

  it('stops at the row limit and counts what it left out', () => {
    const big = { list: Array.from({ length: 1000 }, (_, i) => i) };
    const view = treeRows(big, {}, new Map(), 50);
    expect(view.rows).toHaveLength(50);
    expect(view.hidden).toBe(951);
  });

  it('previews values briefly', () => {
    expect(preview([1, 2])).toBe('[2]');
    expect(preview('x'.repeat(200), 10)).toBe(`"${'x'.repeat(8)}…`);
    expect(preview(null)).toBe('null');
  });

  it('lists diff rows with before and after', () => {
    const { rows, hidden } = diffRows([
      { op: 'changed', path: '/turn', before: 1, after: 2 },
      { op: 'removed', path: '/gone', before: { a: 1 }, after: null },
      { op: 'added', path: '', before: null, after: {} },
    ], 2);
    expect(rows).toEqual([
      { path: '/turn', op: 'changed', before: '1', after: '2' },
      { path: '/gone', op: 'removed', before: '{1}', after: '' },
    ]);
    expect(hidden).toBe(1);
  });
});
