// Parsing of /api/ws frames: pure, so the driver's understanding of the protocol is unit-tested.
// JSON frames: {"type":"hello","seq","gap"}, {"type":"event","seq","time","event"},
// {"type":"heartbeat"}. An event's class is named by "$t" ("module:ClassName") or "__type__".
// Events are job events (topic "jobs", each with a job_id) or WorkflowChanged (topic
// "workflows": a saved workflow created, given a new revision, or deleted with revision 0).
// Binary preview frames: "RXP1", 8-byte big-endian seq, 4-byte big-endian format (1 JPEG, 2 PNG),
// then the image bytes.

export interface JobEvent {
  readonly type: string; // the class name: JobProgress, JobFinished, ...
  readonly job_id: string;
  readonly [field: string]: unknown;
}

/** A saved workflow changed on the server (components/workflow/protocol.py WorkflowChanged). */
export interface WorkflowChange {
  readonly workflowId: string;
  readonly userId: string;
  readonly name: string;
  /** The new revision; 0 when the workflow was deleted. */
  readonly revision: number;
}

export type Frame =
  | { readonly kind: 'hello'; readonly seq: number; readonly gap: boolean }
  | { readonly kind: 'event'; readonly seq: number; readonly time: number; readonly event: JobEvent }
  | { readonly kind: 'workflow'; readonly seq: number; readonly time: number; readonly change: WorkflowChange }
  | { readonly kind: 'heartbeat' };

/** The topics this client asks /api/ws for (the server sends only these). */
export const TOPICS = ['jobs', 'workflows'] as const;

export interface PreviewFrame {
  readonly seq: number;
  readonly mime: 'image/jpeg' | 'image/png';
  readonly bytes: Uint8Array;
}

function className(raw: Record<string, unknown>): string | null {
  const tag = raw['$t'] ?? raw['__type__'] ?? raw['type'];
  if (typeof tag !== 'string' || tag === '') return null;
  const afterColon = tag.slice(tag.lastIndexOf(':') + 1);
  return afterColon.slice(afterColon.lastIndexOf('.') + 1);
}

/** The frames in one text message: one, or several when the server batches them as
 * {"type":"events","items":[frame, ...]}. Frames this client does not understand are dropped. */
export function parseTextFrames(text: string): Frame[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  const batch = raw as { type?: unknown; items?: unknown } | null;
  const items = batch !== null && typeof batch === 'object' && batch.type === 'events' && Array.isArray(batch.items) ? batch.items : [raw];
  return items.map(frameOf).filter((f): f is Frame => f !== null);
}

/** One text frame, or null when it is not one this client understands (ignored, not fatal). */
export function parseTextFrame(text: string): Frame | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  return frameOf(raw);
}

function frameOf(raw: unknown): Frame | null {
  if (raw === null || typeof raw !== 'object') return null;
  const frame = raw as Record<string, unknown>;
  if (frame['type'] === 'heartbeat') return { kind: 'heartbeat' };
  if (typeof frame['seq'] !== 'number') return null;
  if (frame['type'] === 'hello') return { kind: 'hello', seq: frame['seq'], gap: frame['gap'] === true };
  if (frame['type'] !== 'event' || frame['event'] === null || typeof frame['event'] !== 'object') return null;
  const body = frame['event'] as Record<string, unknown>;
  const type = className(body);
  const time = typeof frame['time'] === 'number' ? frame['time'] : 0;
  if (type === 'WorkflowChanged') {
    const change = workflowChangeOf(body);
    return change === null ? null : { kind: 'workflow', seq: frame['seq'], time, change };
  }
  if (type === null || typeof body['job_id'] !== 'string') return null;
  const event: JobEvent = { ...body, type, job_id: body['job_id'] };
  return { kind: 'event', seq: frame['seq'], time, event };
}

function workflowChangeOf(body: Record<string, unknown>): WorkflowChange | null {
  const { workflow_id: id, user_id: user, name, revision } = body;
  if (typeof id !== 'string' || typeof revision !== 'number' || !Number.isInteger(revision) || revision < 0) return null;
  return { workflowId: id, userId: typeof user === 'string' ? user : String(user ?? ''), name: typeof name === 'string' ? name : '', revision };
}

const MAGIC = [0x52, 0x58, 0x50, 0x31]; // "RXP1"

export function parsePreviewFrame(data: ArrayBuffer): PreviewFrame | null {
  if (data.byteLength < 16) return null;
  const view = new DataView(data);
  for (let i = 0; i < 4; i++) if (view.getUint8(i) !== MAGIC[i]) return null;
  const seq = Number(view.getBigUint64(4, false));
  const format = view.getUint32(12, false);
  if (format !== 1 && format !== 2) return null;
  return { seq, mime: format === 1 ? 'image/jpeg' : 'image/png', bytes: new Uint8Array(data, 16) };
}

/** The socket URL for a page at `location`, for `topics`, resuming after `after` when known. */
export function socketUrl(location: { protocol: string; host: string }, after: number | null, topics: readonly string[] = TOPICS): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = [`topics=${topics.join(',')}`, ...(after === null ? [] : [`after=${after}`])].join('&');
  return `${scheme}//${location.host}/api/ws?${query}`;
}

/** Reconnect delay: doubling from 500 ms, capped at 10 s. */
export function backoff(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
}
