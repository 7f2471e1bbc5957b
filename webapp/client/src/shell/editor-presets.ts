// The editor's presets outlive the page: they are kept in localStorage and put back into the
// editor's state slice once the editor has started. What is read back is checked piece by piece,
// so a stored value from an older client or edited by hand cannot put a malformed graph into the
// editor: a preset that does not check out is dropped, the others are kept.
import type { Reducer } from '@cycle/state';
import xs, { type Stream } from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import { update } from '../component';
import type { StorageSource, StorageWrite } from '../drivers/storage';
import type { AppState } from '../model/types';

export const PRESETS_KEY = 'rxgen.editor.presets';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNums = (v: unknown, n: number): boolean => Array.isArray(v) && v.length === n && v.every(isNum);
const isStrOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

function isNode(v: unknown): boolean {
  return (
    isRec(v) &&
    typeof v['id'] === 'string' &&
    typeof v['type'] === 'string' &&
    isNums(v['pos'], 2) &&
    (v['size'] === null || isNums(v['size'], 2)) &&
    isStrOrNull(v['title']) &&
    isRec(v['values']) &&
    isNum(v['mode']) &&
    typeof v['collapsed'] === 'boolean' &&
    isRec(v['extra'])
  );
}

function isLink(v: unknown): boolean {
  return isRec(v) && typeof v['from'] === 'string' && isNum(v['fromSlot']) && typeof v['to'] === 'string' && typeof v['toInput'] === 'string' && typeof v['type'] === 'string';
}

function isGroup(v: unknown): boolean {
  return isRec(v) && typeof v['id'] === 'string' && typeof v['title'] === 'string' && isNums(v['bounds'], 4) && isStrOrNull(v['color']) && isRec(v['extra']);
}

function isPreset(v: unknown): boolean {
  if (!isRec(v) || typeof v['name'] !== 'string' || v['name'].trim() === '' || !isRec(v['fragment'])) return false;
  const f = v['fragment'];
  const all = (list: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(list) && list.every(check);
  return all(f['nodes'], isNode) && all(f['links'], isLink) && all(f['groups'], isGroup);
}

/** The presets a stored value holds: a JSON list of {name, fragment}; anything else is none. */
export function parsePresets(stored: string | null): readonly unknown[] {
  if (stored === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const seen = new Set<string>();
  return parsed.filter((p) => {
    if (!isPreset(p)) return false;
    const name = (p as Rec)['name'] as string;
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

/** The editor's presets in the app state, or undefined before the editor has started. */
export function presetsOf(state: AppState): readonly unknown[] | undefined {
  const editor = state.editor;
  return isRec(editor) && Array.isArray(editor['presets']) ? (editor['presets'] as readonly unknown[]) : undefined;
}

/** Stored presets under the ones made in this page (same name: this page's wins). */
export function withStoredPresets(state: AppState, stored: readonly unknown[]): AppState {
  const current = presetsOf(state);
  if (current === undefined || stored.length === 0) return state;
  const names = new Set(current.map((p) => (p as Rec)['name']));
  const merged = [...stored.filter((p) => !names.has((p as Rec)['name'])), ...current];
  return { ...state, editor: { ...(state.editor as Rec), presets: merged } };
}

/** Restore the stored presets once the editor's state exists; afterwards store every change. */
export function persistPresets(state$: Stream<AppState>, storage: StorageSource): { state: Stream<Reducer<AppState>>; storage: Stream<StorageWrite> } {
  const stored$ = storage.get('local', PRESETS_KEY).take(1).map(parsePresets);
  const started$ = state$.filter((s) => presetsOf(s) !== undefined).take(1);
  const restore$ = xs.combine(stored$, started$).take(1).map(([stored]) => update((s) => withStoredPresets(s, stored)));
  // Writes begin only after the restore, so the empty list of a fresh editor never overwrites
  // what an earlier visit saved.
  const write$ = restore$
    .map(() => state$.map(presetsOf).filter((p): p is readonly unknown[] => p !== undefined).compose(dropRepeats()).drop(1))
    .flatten()
    .map((presets): StorageWrite => ({ area: 'local', key: PRESETS_KEY, value: JSON.stringify(presets) }));
  return { state: restore$, storage: write$ };
}
