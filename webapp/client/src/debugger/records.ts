// What one seq's records say: the row label, the event's payload, what it caused, and the
// files its nodes wrote (outputs named in `ui.images` and the like, shown through /view).
import { shortType } from './tree';
import type { LogRecord } from './types';

export function typeOf(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const type = (value as Record<string, unknown>)['$t'];
    if (typeof type === 'string') return shortType(type);
  }
  return '';
}

export function label(record: LogRecord): string {
  if (record.kind === 'state') {
    const ops = Array.isArray(record.value) ? record.value.length : 0;
    return `${record.name} (${ops} change${ops === 1 ? '' : 's'})`;
  }
  const type = typeOf(record.value);
  return type === '' ? record.name : `${record.name}: ${type}`;
}

/** "2026-12-02 10:07:41.410" in UTC, so every viewer reads the same clock. */
export function timeText(time: number | null): string {
  if (time === null) return '';
  return new Date(time * 1000).toISOString().replace('T', ' ').replace('Z', '');
}

export interface ArtifactLink {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
  readonly url: string;
  readonly image: boolean;
}

const IMAGE = /\.(png|jpe?g|webp|gif|bmp)$/i;

export const viewUrl = (f: { filename: string; subfolder: string; type: string }): string =>
  `/view?filename=${encodeURIComponent(f.filename)}&subfolder=${encodeURIComponent(f.subfolder)}&type=${encodeURIComponent(f.type)}`;

function isFileRef(value: unknown): value is { filename: string; subfolder?: unknown; type?: unknown } {
  return value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)['filename'] === 'string';
}

/** Files named anywhere in these records (`{filename, subfolder, type}` objects), once each. */
export function artifacts(records: readonly LogRecord[], max = 48): ArtifactLink[] {
  const found = new Map<string, ArtifactLink>();
  const walk = (value: unknown, depth: number): void => {
    if (found.size >= max || depth > 12 || value === null || typeof value !== 'object') return;
    if (isFileRef(value)) {
      const link = { filename: value.filename, subfolder: typeof value.subfolder === 'string' ? value.subfolder : '', type: typeof value.type === 'string' ? value.type : 'output' };
      const url = viewUrl(link);
      if (!found.has(url)) found.set(url, { ...link, url, image: IMAGE.test(link.filename) });
      return;
    }
    for (const item of Array.isArray(value) ? value : Object.values(value)) walk(item, depth + 1);
  };
  for (const record of records) if (record.kind !== 'state') walk(record.value, 0);
  return [...found.values()];
}

export const eventOf = (records: readonly LogRecord[]): LogRecord | undefined => records.find((r) => r.kind === 'event');

export function pretty(value: unknown, max = 6000): string {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}
