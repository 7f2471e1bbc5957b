import { describe, expect, it } from 'vitest';
import { applyEvent, mergeListed, progressOf, queuePosition, previewUrl } from '../model/jobs';
import type { Job } from '../model/types';
import type { Jobs } from '../model/jobs';

const job = (id: string, number: number, status: Job['status'] = 'queued'): Job => ({ id, number, user_id: 1, status, priority: 0, created_at: '', started_at: null, finished_at: null, outputs: null, error: null, prompt: null });
const ev = (type: string, fields: Record<string, unknown> = {}) => ({ type, job_id: 'a', ...fields });

describe('jobs from socket events', () => {
  it('follows a job from start to finish with per-step progress', () => {
    let jobs: Jobs = { a: job('a', 1) };
    jobs = applyEvent(jobs, ev('JobStarted', { to_run: ['1', '2', '3', '4'] }), 10);
    expect(jobs['a']?.status).toBe('running');
    expect(progressOf(jobs['a'] as Job)).toBe(0);
    jobs = applyEvent(jobs, ev('JobProgress', { done: 2, total: 4, node_id: '3', node_value: 2, node_max: 4, preview: 'previews/p.jpeg' }), 11);
    expect(progressOf(jobs['a'] as Job)).toBeCloseTo(2.5 / 4);
    expect(jobs['a']?.preview).toBe(previewUrl('previews/p.jpeg'));
    jobs = applyEvent(jobs, ev('JobFinished', { outputs: { '7': { images: [] } } }), 12);
    expect(jobs['a']?.status).toBe('finished');
    expect(progressOf(jobs['a'] as Job)).toBe(1);
  });
  it('keeps live figures when a listing of a running job arrives', () => {
    let jobs: Jobs = applyEvent({ a: job('a', 1) }, ev('JobProgress', { done: 3, total: 6 }), 1);
    jobs = mergeListed(jobs, [job('a', 1, 'running')]);
    expect(jobs.a?.done).toBe(3);
  });
  it('ignores events it does not know and counts queue positions', () => {
    const jobs = { a: job('a', 1), b: job('b', 2), c: job('c', 3, 'running') };
    expect(applyEvent(jobs, ev('Whatever'), 0)).toBe(jobs);
    expect(queuePosition(jobs, jobs.b)).toBe(2);
    expect(queuePosition(jobs, jobs.c)).toBeNull();
  });
  it('marks cancelled and failed jobs', () => {
    expect(applyEvent({ a: job('a', 1) }, ev('JobCancelled'), 0).a?.status).toBe('cancelled');
    expect(applyEvent({ a: job('a', 1) }, ev('JobFailed', { errors: ['boom'] }), 0).a?.error).toEqual(['boom']);
  });
});

describe('saved-workflow changes on the socket', () => {
  it('only move the resume point: no job changes, no toast', async () => {
    // live.ts reaches @cycle/dom (through ui.ts), which reads `window` when it loads.
    (globalThis as { window?: unknown }).window ??= globalThis;
    const { reduceMessage } = await import('../shell/live');
    const { initialState } = await import('../model/initial');
    const before = { ...initialState('/app/editor'), jobs: { a: job('a', 1) }, lastSeq: 4 };
    const after = reduceMessage(before, { kind: 'workflow', seq: 9, time: 1, change: { workflowId: 'w', userId: '1', name: 'n', revision: 2 } }, null);
    expect(after).toEqual({ ...before, lastSeq: 9 });
  });
});
