import { describe, expect, it } from 'vitest';
import { filterQuery, page, parsePage, parseSessions, parseWhatIf, type FilterQuery } from './api';
import { noFilters } from './model';
import { artifacts, label, timeText } from './records';
import { rec } from './testkit';

describe('filters as the server takes them', () => {
  it('builds the query and keeps the seq range apart', () => {
    const q = filterQuery({ ...noFilters, kinds: ['event', 'sink'], driver: ' intake, nodes ,', job: 'j1', start: '10', end: '90' }) as FilterQuery;
    expect(q).toEqual({ query: 'kind=event,sink&driver=intake%2Cnodes&job=j1', start: 10, end: 90 });
  });

  it('says what is wrong with a filter', () => {
    expect(filterQuery({ ...noFilters, kinds: [] })).toEqual({ error: 'Choose at least one kind of record.' });
    expect(filterQuery({ ...noFilters, start: '1.5' })).toHaveProperty('error');
    expect(filterQuery({ ...noFilters, start: '9', end: '3' })).toEqual({ error: 'The last seq (3) is before the first (9).' });
    expect(filterQuery({ ...noFilters, since: 'yesterday' })).toHaveProperty('error');
    const timed = filterQuery({ ...noFilters, since: '2026-12-02T10:07:41Z' }) as FilterQuery;
    expect(timed.query).toBe(`kind=event&since=${Date.parse('2026-12-02T10:07:41Z') / 1000}`);
  });

  it('bounds every page by the filter and reads pages by cursor', () => {
    const f: FilterQuery = { query: 'kind=event', start: 5, end: 50 };
    expect(page('s 1', f, { type: 'at', key: 'k', start: 7 }).url).toBe('/api/logs/s%201/records?kind=event&start=7&end=50&limit=200');
    expect(page('s', f, { type: 'after', key: 'k', cursor: { seq: 9, skip: 2 }, tail: false }).url).toBe('/api/logs/s/records?kind=event&cursor=9.2&end=50&limit=200');
    expect(page('s', f, { type: 'before', key: 'k', start: 5, end: 6 }).url).toBe('/api/logs/s/records?kind=event&start=5&end=6&limit=1000');
  });
});

describe('parsing answers', () => {
  it('reads sessions and pages, ignoring what is malformed', () => {
    const s = parseSessions({ items: [{ name: 'a', live: true, events: 3, first_seq: 0, last_seq: 3 }, { nope: 1 }], live: 'a' });
    expect(s.items).toHaveLength(1);
    expect(s.items[0]).toMatchObject({ name: 'a', live: true, events: 3, size_bytes: 0, error: null });
    const p = parsePage({ items: [{ kind: 'event', seq: 4, name: 'intake', value: { x: 1 }, jobs: ['j', 3], users: [], time: null }], next_cursor: '5.0' });
    expect(p).toEqual({ items: [{ kind: 'event', seq: 4, name: 'intake', value: { x: 1 }, jobs: ['j'], users: [], time: null }], next: '5.0' });
  });

  it('reads a what-if report', () => {
    const r = parseWhatIf({ seq: 3, action: 'drop', replayed_from: 0, events: 9, compared_through: 9, first_difference: 4, differences: [{ seq: 4, sinks: [{ op: 'removed', driver: 'events', index: 0, recorded: { a: 1 } }], state: [{ op: 'changed', path: '/n', before: 1, after: 2 }], state_total: 1 }], final_state: [], complete: true, stopped: null, fault: null });
    expect(r.firstDifference).toBe(4);
    expect(r.differences[0]?.sinks[0]).toEqual({ op: 'removed', driver: 'events', index: 0, recorded: { a: 1 }, replayed: null });
    expect(r.differences[0]?.state[0]?.path).toBe('/n');
  });
});

describe('records', () => {
  it('labels rows by driver and message type', () => {
    expect(label(rec(1, 'event', 'nodes', { $t: 'components.workflow.protocol:NodeDone' }))).toBe('nodes: NodeDone');
    expect(label(rec(1, 'state', 'core/NodeDone', [{}, {}]))).toBe('core/NodeDone (2 changes)');
    expect(timeText(1796206061.41)).toBe('2026-12-02 10:07:41.410');
  });

  it('finds the files an event produced, once each, with thumbnails for images', () => {
    const image = { filename: 'api_00001_.png', subfolder: '', type: 'output' };
    const found = artifacts([
      rec(12, 'event', 'nodes', { ui: { images: [image] } }),
      rec(12, 'sink', 'events', { outputs: { save: { images: [image, { filename: 'clip.mp4', subfolder: 'v', type: 'output' }] } } }),
      rec(12, 'state', 'core', [{ value: { filename: 'not-a-product.png' } }]),
    ]);
    expect(found).toEqual([
      { ...image, url: '/view?filename=api_00001_.png&subfolder=&type=output', image: true },
      { filename: 'clip.mp4', subfolder: 'v', type: 'output', url: '/view?filename=clip.mp4&subfolder=v&type=output', image: false },
    ]);
  });
});
