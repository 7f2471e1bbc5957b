// View models for the state tree and the diff: plain rows the view renders as they are.
// The tree is flattened to the rows that are open, so a large state costs only what is shown.
import type { Change } from './types';

export type Mark = 'added' | 'removed' | 'changed' | 'inside';

export interface TreeRow {
  readonly path: string; // JSON pointer
  readonly key: string;
  readonly depth: number;
  readonly expandable: boolean;
  readonly open: boolean;
  readonly preview: string;
  readonly mark: Mark | null;
}

export interface TreeView {
  readonly rows: readonly TreeRow[];
  readonly hidden: number; // rows not shown (over the limit)
}

export const TREE_LIMIT = 600;
export const CHILD_LIMIT = 200;

const escapeToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
export const childPath = (path: string, key: string): string => `${path}/${escapeToken(key)}`;

/** Every proper ancestor of a JSON pointer ("/a/b/c" -> "/a", "/a/b"; "" is the root). */
export function ancestors(path: string): string[] {
  const parts = path.split('/').slice(1);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

/**
 * Marks for the tree of the state after the changes: each added or changed path with its
 * operation, and the ancestors of every change `inside`. A removed path is not in that state
 * (whatever sits there now, after a list shifted, is another value), so only its ancestors
 * are marked.
 */
export function marks(changes: readonly Change[]): ReadonlyMap<string, Mark> {
  const out = new Map<string, Mark>();
  for (const change of changes) {
    for (const above of ancestors(change.path)) if (!out.has(above)) out.set(above, 'inside');
  }
  for (const change of changes) {
    if (change.op === 'removed') continue;
    out.set(change.path, change.op === 'added' ? 'added' : 'changed');
  }
  return out;
}

export function preview(value: unknown, max = 80): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (value !== null && typeof value === 'object') {
    const type = (value as Record<string, unknown>)['$t'];
    const size = Object.keys(value).length;
    return typeof type === 'string' ? `${shortType(type)} {${size}}` : `{${size}}`;
  }
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "components.queue:QueuedJob" -> "QueuedJob". */
export const shortType = (type: string): string => type.slice(type.lastIndexOf(':') + 1) || type;

function entries(value: unknown): [string, unknown][] {
  if (Array.isArray(value)) return value.map((v, i) => [String(i), v]);
  if (value !== null && typeof value === 'object') return Object.entries(value as Record<string, unknown>).filter(([k]) => k !== '$t');
  return [];
}

const expandable = (value: unknown): boolean => value !== null && typeof value === 'object' && entries(value).length > 0;

/**
 * The visible rows of `value`'s tree. A node is open when `open` says so, else when a change
 * lies inside it (so the diff is in view at once), else when it is at the top level.
 */
export function treeRows(value: unknown, open: Readonly<Record<string, boolean>>, marked: ReadonlyMap<string, Mark>, limit = TREE_LIMIT): TreeView {
  const rows: TreeRow[] = [];
  let hidden = 0;
  const walk = (node: unknown, path: string, depth: number): void => {
    const children = entries(node);
    for (let i = 0; i < children.length; i++) {
      const [key, child] = children[i] as [string, unknown];
      if (rows.length >= limit || i >= CHILD_LIMIT) {
        hidden += children.length - i;
        return;
      }
      const p = childPath(path, key);
      const mark = marked.get(p) ?? null;
      const can = expandable(child);
      const isOpen = can && (open[p] ?? (mark === 'inside' || depth === 0));
      rows.push({ path: p, key, depth, expandable: can, open: isOpen, preview: preview(child), mark });
      if (isOpen) walk(child, p, depth + 1);
    }
  };
  if (expandable(value)) walk(value, '', 0);
  return { rows, hidden };
}

export interface DiffRow {
  readonly path: string;
  readonly op: 'added' | 'removed' | 'changed';
  readonly before: string;
  readonly after: string;
}

export function diffRows(changes: readonly Change[], max = 200): { rows: DiffRow[]; hidden: number } {
  const rows = changes.slice(0, max).map((c): DiffRow => {
    const op = c.op === 'added' || c.op === 'removed' ? c.op : 'changed';
    return { path: c.path === '' ? '(whole state)' : c.path, op, before: op === 'added' ? '' : preview(c.before, 120), after: op === 'removed' ? '' : preview(c.after, 120) };
  });
  return { rows, hidden: Math.max(0, changes.length - max) };
}
