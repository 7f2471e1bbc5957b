import { describe, expect, it } from 'vitest';
import xs from 'xstream';
import type { StorageWrite } from '../drivers/storage';
import { makeStorageDriver } from '../drivers/storage';
import { initialState } from '../model/initial';
import type { AppState } from '../model/types';
import { workflowRequest } from '../model/gallery';
import { workflowImport } from '../shell/editor-imports';
import { parsePresets, persistPresets, PRESETS_KEY, presetsOf, withStoredPresets } from '../shell/editor-presets';

const node = (id: string) => ({ id, type: 'EmptyImage', pos: [0, 0], size: null, title: null, values: { width: 64 }, mode: 0, collapsed: false, extra: {} });
const preset = (name: string) => ({ name, fragment: { nodes: [node('1'), node('2')], links: [{ from: '1', fromSlot: 0, to: '2', toInput: 'image', type: 'IMAGE' }], groups: [] } });
const withEditor = (presets: unknown[]): AppState => ({ ...initialState('/app/editor'), editor: { presets, other: 1 } });

describe('editor presets in local storage', () => {
  it('keeps only presets that check out, one per name', () => {
    const broken = { ...preset('broken'), fragment: { nodes: [{ ...node('1'), pos: [0] }], links: [], groups: [] } };
    const stored = JSON.stringify([preset('a'), broken, { name: '', fragment: preset('x').fragment }, preset('a'), 'junk', preset('b')]);
    expect(parsePresets(stored).map((p) => (p as { name: string }).name)).toEqual(['a', 'b']);
    expect(parsePresets('not json')).toEqual([]);
    expect(parsePresets('{"a": 1}')).toEqual([]);
    expect(parsePresets(null)).toEqual([]);
  });

  it("puts stored presets under the page's own ones (same name: the page's wins)", () => {
    const mine = { ...preset('a'), fragment: { nodes: [node('9')], links: [], groups: [] } };
    const merged = withStoredPresets(withEditor([mine]), [preset('a'), preset('b')]);
    expect(presetsOf(merged)).toEqual([preset('b'), mine]);
    expect((merged.editor as { other: number }).other).toBe(1);
    const before = initialState('/app/editor');
    expect(withStoredPresets(before, [preset('b')])).toBe(before); // the editor has not started
  });

  it('restores once the editor has started, then stores each change and never the empty start', () => {
    const saved = JSON.stringify([preset('kept')]);
    const areas = { local: new Map([[PRESETS_KEY, saved]]) };
    const storage = makeStorageDriver(() => ({ getItem: (k: string) => areas.local.get(k) ?? null, setItem: (k: string, v: string) => void areas.local.set(k, v), removeItem: (k: string) => void areas.local.delete(k) }) as unknown as Storage);
    const state$ = xs.createWithMemory<AppState>();
    const write$ = xs.create<StorageWrite>();
    const source = storage(write$);
    const sinks = persistPresets(state$, source);
    let state = initialState('/app/editor');
    const writes: string[] = [];
    sinks.state.addListener({ next: (reducer) => { state = reducer(state) ?? state; state$.shamefullySendNext(state); } });
    sinks.storage.addListener({ next: (w) => { writes.push(String(w.value)); write$.shamefullySendNext(w); } });
    state$.shamefullySendNext(state); // before the editor: nothing happens
    expect(writes).toEqual([]);
    state = withEditor([]);
    state$.shamefullySendNext(state); // the editor starts empty: the stored preset comes back
    expect(presetsOf(state)).toEqual([preset('kept')]);
    expect(areas.local.get(PRESETS_KEY)).toBe(saved);
    state = { ...state, editor: { ...(state.editor as object), presets: [preset('kept'), preset('new')] } };
    state$.shamefullySendNext(state);
    expect(JSON.parse(areas.local.get(PRESETS_KEY) ?? '[]')).toEqual([preset('kept'), preset('new')]);
  });
});

describe('opening the workflow of a gallery image', () => {
  it('asks for the origin of the artifact', () => {
    const item = { key: 'k', sha256: 'ab'.repeat(32), url: '', thumbnail: '', width: null, height: null, created_at: '', job_id: null, node_id: null, media_type: 'image/png' };
    expect(workflowRequest(item)).toMatchObject({ category: 'artifact-workflow', url: `/api/artifacts/${'ab'.repeat(32)}/workflow`, tag: 'k' });
  });

  it("hands the answer's prompt to the editor as a file", () => {
    const prompt = { '1': { class_type: 'EmptyImage', inputs: {} } };
    expect(workflowImport({ ok: true, body: { job_id: '0123456789', node_id: '9', prompt } })).toEqual({ name: 'the workflow of job 01234567', content: JSON.stringify(prompt) });
    expect(workflowImport({ ok: true, body: { prompt } })?.name).toBe('the workflow of a gallery image');
    expect(workflowImport({ ok: true, body: { job_id: 'x', prompt: null } })).toBeNull();
    expect(workflowImport({ ok: false, body: { title: 'no workflow' } })).toBeNull();
  });
});
