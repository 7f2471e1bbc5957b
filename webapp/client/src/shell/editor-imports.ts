// What the editor is handed to open, besides files: the workflow of a gallery image.
import type { HttpResponse } from '../drivers/http';

export interface EditorImport {
  readonly name: string;
  readonly content: string | Uint8Array;
}

/** The workflow an answer of GET /api/artifacts/{sha}/workflow carries. */
export function workflowImport(response: Pick<HttpResponse, 'ok' | 'body'>): EditorImport | null {
  if (!response.ok || typeof response.body !== 'object' || response.body === null) return null;
  const body = response.body as { prompt?: unknown; job_id?: unknown };
  if (typeof body.prompt !== 'object' || body.prompt === null) return null;
  const job = typeof body.job_id === 'string' ? body.job_id : null;
  return { name: job === null ? 'the workflow of a gallery image' : `the workflow of job ${job.slice(0, 8)}`, content: JSON.stringify(body.prompt) };
}
