// Submitting a prompt and reading the answer, shared by the workspaces: POST /api/jobs, whose
// 400 answers carry per-node errors.
import type { Stream } from 'xstream';
import type { HttpResponse, HttpSource } from '../drivers/http';
import type { Job } from '../model/types';
import type { Prompt } from '../model/workflows';

export type Outcome = { readonly ok: true; readonly job: Job; readonly tag: unknown } | { readonly ok: false; readonly error: string; readonly nodeErrors: string[]; readonly tag: unknown };

interface SubmitTag {
  readonly prompt: Prompt;
  readonly tag: unknown;
}

/** "node 5 (KSampler), input steps: must be at least 1" lines from a node_errors object. */
export function nodeErrorLines(body: unknown): string[] {
  const errors = (body as { node_errors?: unknown } | null)?.node_errors;
  if (errors === null || typeof errors !== 'object') return [];
  const lines: string[] = [];
  for (const [node, entry] of Object.entries(errors as Record<string, unknown>)) {
    const e = entry as { errors?: unknown; class_type?: unknown };
    const kind = typeof e.class_type === 'string' ? ` (${e.class_type})` : '';
    const list = Array.isArray(e.errors) ? e.errors : [entry];
    for (const item of list) {
      const i = item as { message?: unknown; details?: unknown; extra_info?: { input_name?: unknown } };
      const input = typeof i.extra_info?.input_name === 'string' ? `, input ${i.extra_info.input_name}` : '';
      const text = [i.message, i.details].filter((t) => typeof t === 'string' && t !== '').join(': ');
      lines.push(`node ${node}${kind}${input}: ${text || JSON.stringify(item)}`);
    }
  }
  return lines;
}

/** The outcomes of the submissions made under `category`. */
export function answers(http: HttpSource, category: string): Stream<Outcome> {
  return http.select(category).map(outcomeOf);
}

function outcomeOf(r: HttpResponse): Outcome {
  const t = r.request.tag as SubmitTag;
  if (!r.ok) return { ok: false, error: r.error ?? 'the job was refused', nodeErrors: nodeErrorLines(r.body), tag: t.tag };
  const body = r.body as { id?: unknown; number?: unknown };
  const id = typeof body.id === 'string' ? body.id : '';
  const job: Job = {
    id,
    number: typeof body.number === 'number' ? body.number : 0,
    user_id: 0,
    status: 'queued',
    priority: 0,
    created_at: '',
    started_at: null,
    finished_at: null,
    outputs: null,
    error: null,
    prompt: t.prompt,
  };
  return { ok: true, job, tag: t.tag };
}
