// The queue: every job this user may see (admins: everyone's), with state, progress, position,
// cancel and re-run. Cancel buttons anywhere in the app are handled by the shell.
import { h, type VNode } from '@cycle/dom';
import xs from 'xstream';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import { update, type Sinks, type Sources } from '../component';
import { isActive, outputImages, queuePosition, sortedJobs, viewUrl } from '../model/jobs';
import type { AppState, Job } from '../model/types';
import type { Prompt } from '../model/workflows';
import { progressBar, statusText } from '../ui';
import { answers } from './submission';

function row(state: AppState, job: Job): VNode {
  const position = queuePosition(state.jobs, job);
  const first = outputImages(job)[0];
  const admin = state.user?.role === 'admin';
  return h('li.job-row', { key: job.id, attrs: { 'data-status': job.status } }, [
    h('div.job-head', [
      h('strong', job.number > 0 ? `#${job.number}` : job.id.slice(0, 8)),
      h(`span.badge.${job.status}`, job.status),
      position === null ? null : h('span.position', `position ${position}`),
      admin && job.user_id !== state.user?.id ? h('span.owner', `user ${job.user_id}`) : null,
    ].filter((v): v is VNode => v !== null)),
    h('p.job-status', statusText(job)),
    isActive(job) ? progressBar(job, `progress of job ${job.number}`) : null,
    first === undefined ? null : h('img.thumb', { attrs: { src: viewUrl(first.image), alt: `output of job ${job.number}`, loading: 'lazy', width: 64, height: 64 } }),
    h('div.actions', [
      isActive(job) ? h('button.cancel', { attrs: { type: 'button', 'data-job': job.id, disabled: job.cancelling === true, 'aria-label': `Cancel job ${job.number}` } }, 'Cancel') : null,
      job.prompt !== null ? h('button.rerun', { attrs: { type: 'button', 'data-job': job.id, 'aria-label': `Re-run job ${job.number}` } }, 'Re-run') : null,
    ].filter((v): v is VNode => v !== null)),
  ].filter((v): v is VNode => v !== null));
}

export function queueView(state: AppState): VNode {
  const jobs = sortedJobs(state.jobs);
  const active = jobs.filter(isActive).length;
  return h('section.screen.queue', { attrs: { 'aria-labelledby': 'queue-title' } }, [
    h('div.screen-head', [h('h1#queue-title', 'Queue'), h('button.refresh-jobs', { attrs: { type: 'button' } }, 'Refresh')]),
    h('p', { attrs: { role: 'status', 'aria-live': 'polite' } }, `${active} active, ${jobs.length} in total`),
    jobs.length === 0 ? h('p.placeholder', 'No jobs yet.') : h('ul.job-list', jobs.map((job) => row(state, job))),
  ]);
}

export function Queue(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const rerun$ = sources.DOM.select('button.rerun')
    .events('click')
    .map((e) => (e.currentTarget as HTMLElement).dataset['job'] ?? '')
    .compose(sampleCombine(state$))
    .map(([id, s]) => s.jobs[id]?.prompt)
    .filter((p): p is Readonly<Record<string, unknown>> => p !== null && p !== undefined)
    .map((prompt) => api.submit('queue-rerun', prompt as Prompt));
  const outcome$ = answers(sources.HTTP, 'queue-rerun');
  const refresh$ = sources.DOM.select('button.refresh-jobs').events('click').mapTo(api.jobs(undefined, 200));
  const reducer$ = outcome$.map((o) => update((s) => (o.ok ? { ...s, jobs: { ...s.jobs, [o.job.id]: s.jobs[o.job.id] ?? o.job } } : s)));
  return { DOM: state$.map(queueView), HTTP: xs.merge(rerun$, refresh$), state: reducer$ };
}
