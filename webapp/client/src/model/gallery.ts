// Gallery data and the virtual window: pure functions, unit-tested.
import * as api from '../api';
import type { HttpRequest } from '../drivers/http';
import type { Artifact } from './types';

export const CELL = 184; // px: a 168 px thumbnail plus the gap

export function fromArtifacts(body: unknown): { items: Artifact[]; next: string | null } {
  const b = body as { items?: unknown; next_cursor?: unknown } | null;
  const items: Artifact[] = [];
  for (const raw of Array.isArray(b?.items) ? b.items : []) {
    const a = raw as Record<string, unknown>;
    if (typeof a['sha256'] !== 'string') continue;
    const sha = a['sha256'];
    items.push({
      key: sha,
      sha256: sha,
      url: typeof a['url'] === 'string' ? a['url'] : `/api/artifacts/${sha}/content`,
      thumbnail: typeof a['thumbnail_url'] === 'string' ? a['thumbnail_url'] : `/api/artifacts/${sha}/thumbnail`,
      width: typeof a['width'] === 'number' ? a['width'] : null,
      height: typeof a['height'] === 'number' ? a['height'] : null,
      created_at: typeof a['created_at'] === 'string' ? a['created_at'] : '',
      job_id: typeof a['job_id'] === 'string' ? a['job_id'] : null,
      node_id: typeof a['node_id'] === 'string' ? a['node_id'] : null,
      media_type: typeof a['media_type'] === 'string' ? a['media_type'] : 'image/png',
    });
  }
  return { items, next: typeof b?.next_cursor === 'string' ? b.next_cursor : null };
}

/** Append a page, dropping keys already present (pages can overlap after deletes). */
export function appendPage(items: readonly Artifact[], page: readonly Artifact[]): Artifact[] {
  const seen = new Set(items.map((i) => i.key));
  return [...items, ...page.filter((i) => !seen.has(i.key))];
}

export function matches(item: Artifact, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (f === '') return true;
  return [item.key, item.job_id ?? '', item.node_id ?? '', item.created_at, item.media_type].some((v) => v.toLowerCase().includes(f));
}

export interface Window {
  readonly first: number; // index of the first item rendered
  readonly last: number; // one past the last
  readonly top: number; // px offset of the first rendered row
  readonly height: number; // px of the whole list
}

/** Which items a viewport shows, with `overscan` rows either side. */
export function visibleWindow(count: number, columns: number, scrollTop: number, viewport: number, overscan = 2): Window {
  const cols = Math.max(1, columns);
  const rows = Math.ceil(count / cols);
  const firstRow = Math.max(0, Math.floor(scrollTop / CELL) - overscan);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + viewport) / CELL) + overscan);
  return { first: firstRow * cols, last: Math.min(count, lastRow * cols), top: firstRow * CELL, height: rows * CELL };
}

export const columnsFor = (width: number): number => Math.max(1, Math.floor(width / CELL));

/** A copy of a prompt with every sampler seed replaced (re-run with a new seed). */
export function reseeded(prompt: Readonly<Record<string, unknown>>, seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(prompt)) {
    const n = node as { class_type?: unknown; inputs?: Record<string, unknown> };
    const inputs = n.inputs ?? {};
    out[id] = 'seed' in inputs && typeof inputs['seed'] === 'number' ? { ...n, inputs: { ...inputs, seed } } : n;
  }
  return out;
}

/** The request for the workflow that made an item: its artifact's origin. */
export function workflowRequest(item: Artifact): HttpRequest {
  return api.artifactWorkflow(item.sha256, item.key);
}
