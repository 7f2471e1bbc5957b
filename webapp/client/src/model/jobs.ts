// Pure reducers from server facts (job listings, socket events) to the jobs in state.
import type { JobEvent } from '../drivers/wsframes';
import type { Job, JobStatus } from './types';

export type Jobs = Readonly<Record<string, Job>>;

const STATUSES = new Set<JobStatus>(['queued', 'running', 'finished', 'failed', 'cancelled', 'interrupted']);

export function isJob(raw: unknown): raw is Job {
  if (raw === null || typeof raw !== 'object') return false;
  const job = raw as Record<string, unknown>;
  return typeof job['id'] === 'string' && typeof job['status'] === 'string' && STATUSES.has(job['status'] as JobStatus);
}

export function isActive(job: Job): boolean {
  return job.status === 'queued' || job.status === 'running';
}

/** Merge listed jobs over known ones, keeping live figures the listing does not carry. */
export function mergeListed(jobs: Jobs, listed: readonly Job[]): Jobs {
  const next: Record<string, Job> = { ...jobs };
  for (const job of listed) {
    const known = jobs[job.id];
    const keepLive = known !== undefined && job.status === 'running';
    next[job.id] = keepLive
      ? { ...job, done: known.done, total: known.total, nodeId: known.nodeId, nodeValue: known.nodeValue, nodeMax: known.nodeMax, preview: known.preview }
      : { ...job, preview: known?.preview ?? null };
  }
  return next;
}

function placeholder(id: string): Job {
  return { id, number: 0, user_id: 0, status: 'queued', priority: 0, created_at: '', started_at: null, finished_at: null, outputs: null, error: null, prompt: null };
}

const num = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/** The URL of a preview image named by a JobProgress event (a path under the temp folder). */
export function previewUrl(path: string): string {
  const slash = path.lastIndexOf('/');
  const subfolder = slash < 0 ? '' : path.slice(0, slash);
  const filename = path.slice(slash + 1);
  const query = new URLSearchParams({ filename, subfolder, type: 'temp' });
  return `/api/view?${query.toString()}`;
}

/** Apply one socket event. `time` is the server's clock, used for started/finished stamps. */
export function applyEvent(jobs: Jobs, event: JobEvent, time: number): Jobs {
  const job = jobs[event.job_id] ?? placeholder(event.job_id);
  const stamp = time > 0 ? new Date(time * 1000).toISOString() : null;
  let next: Job = job;
  switch (event.type) {
    case 'JobQueued':
      next = { ...job, status: 'queued' };
      break;
    case 'JobStarted':
      next = { ...job, status: 'running', started_at: job.started_at ?? stamp, done: 0, total: Array.isArray(event['to_run']) ? event['to_run'].length : job.total };
      break;
    case 'NodeStarted':
      next = { ...job, status: 'running', nodeId: typeof event['node_id'] === 'string' ? event['node_id'] : null, nodeValue: 0, nodeMax: 0 };
      break;
    case 'JobProgress': {
      const preview = typeof event['preview'] === 'string' ? previewUrl(event['preview']) : job.preview;
      next = {
        ...job,
        status: 'running',
        done: num(event['done'], job.done ?? 0),
        total: num(event['total'], job.total ?? 0),
        nodeId: typeof event['node_id'] === 'string' ? event['node_id'] : job.nodeId ?? null,
        nodeValue: num(event['node_value'], 0),
        nodeMax: num(event['node_max'], 0),
        preview: preview ?? null,
      };
      break;
    }
    case 'JobFinished':
      next = { ...job, status: 'finished', finished_at: stamp, done: job.total ?? job.done, outputs: (event['outputs'] as Job['outputs']) ?? job.outputs, cancelling: false };
      break;
    case 'JobFailed':
    case 'JobRejected':
      next = { ...job, status: 'failed', finished_at: stamp, error: event['errors'] ?? event['error'] ?? event['text'] ?? 'failed', cancelling: false };
      break;
    case 'JobCancelled':
      next = { ...job, status: 'cancelled', finished_at: stamp, cancelling: false };
      break;
    default:
      return jobs;
  }
  return { ...jobs, [event.job_id]: next };
}

/** A binary preview frame follows the JobProgress event with the same seq. */
export function applyPreview(jobs: Jobs, jobOfSeq: string | undefined, url: string): Jobs {
  if (jobOfSeq === undefined) return jobs;
  const job = jobs[jobOfSeq];
  return job === undefined ? jobs : { ...jobs, [jobOfSeq]: { ...job, preview: url } };
}

/** Newest first, by queue number (then id, so the order is total). */
export function sortedJobs(jobs: Jobs): Job[] {
  return Object.values(jobs).sort((a, b) => b.number - a.number || (a.id < b.id ? 1 : -1));
}

/** 0..1 overall, or null when nothing is known yet (an indeterminate bar). */
export function progressOf(job: Job): number | null {
  if (job.status === 'finished') return 1;
  if (job.total === undefined || job.total === 0) return null;
  const inNode = job.nodeMax !== undefined && job.nodeMax > 0 ? (job.nodeValue ?? 0) / job.nodeMax : 0;
  return Math.min(1, ((job.done ?? 0) + inNode) / job.total);
}

/** Position in the queue among queued jobs (1 = next), or null when not queued. */
export function queuePosition(jobs: Jobs, job: Job): number | null {
  if (job.status !== 'queued') return null;
  const ahead = Object.values(jobs).filter((j) => j.status === 'queued' && (j.priority > job.priority || (j.priority === job.priority && j.number < job.number)));
  return ahead.length + 1;
}

export function outputImages(job: Job): { node: string; image: { filename: string; subfolder: string; type: string } }[] {
  const found: { node: string; image: { filename: string; subfolder: string; type: string } }[] = [];
  for (const [node, output] of Object.entries(job.outputs ?? {})) {
    for (const image of output.images ?? []) found.push({ node, image });
  }
  return found;
}

export function viewUrl(image: { filename: string; subfolder: string; type: string }): string {
  const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
  return `/api/view?${query.toString()}`;
}
