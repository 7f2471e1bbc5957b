// The gallery: every output as a thumbnail, virtually scrolled (only the rows in view are in
// the DOM), filtered, opened full size, downloaded, deleted, re-run with a new seed.
import { h, type VNode } from '@cycle/dom';
import xs from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import type { HistoryCommand } from '../drivers/history';
import { update, type Sinks, type Sources } from '../component';
import { appendPage, CELL, columnsFor, fromArtifacts, matches, reseeded, visibleWindow, workflowRequest } from '../model/gallery';
import { isJob } from '../model/jobs';
import type { AppState, Artifact, GalleryState } from '../model/types';
import type { Prompt } from '../model/workflows';
import { field, select } from '../ui';
import { answers } from './submission';

const setGallery = (change: (g: GalleryState) => GalleryState) => update((s) => ({ ...s, gallery: change(s.gallery) }));

function cell(item: Artifact, index: number): VNode {
  return h('li.cell', { key: item.key, style: { width: `${CELL - 16}px`, height: `${CELL - 16}px` } }, [
    h('button.open-item', { attrs: { type: 'button', 'data-key': item.key, 'aria-label': `Open image ${index + 1}${item.job_id === null ? '' : ` from job ${item.job_id.slice(0, 8)}`}` } }, [
      h('img', { attrs: { src: item.thumbnail, alt: '', loading: 'lazy', width: CELL - 24, height: CELL - 24 } }),
    ]),
  ]);
}

/** Whether an item has a workflow to open: an output (uploads were made by no job). */
const madeByJob = (state: AppState, item: Artifact): boolean => item.job_id !== null || state.gallery.kind === 'output';

function viewer(state: AppState, item: Artifact): VNode {
  const job = item.job_id === null ? undefined : state.jobs[item.job_id];
  return h('div.viewer', { attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'viewer-title' } }, [
    h('div.viewer-body.card', [
      h('h2#viewer-title', 'Image'),
      h('img.full', { attrs: { src: item.url, alt: `full size output${item.job_id === null ? '' : ` of job ${item.job_id.slice(0, 8)}`}` } }),
      h('p.meta', [item.width !== null ? `${item.width}×${item.height} · ` : '', item.created_at]),
      h('div.actions', [
        h('a.button', { attrs: { href: item.url, download: '' } }, 'Download'),
        job?.prompt !== null && job?.prompt !== undefined ? h('button.rerun-seed', { attrs: { type: 'button', 'data-job': job.id } }, 'Re-run with a new seed') : null,
        madeByJob(state, item) ? h('button.open-workflow', { attrs: { type: 'button', 'data-key': item.key } }, 'Open the workflow in the editor') : null,
        h('button.delete-item', { attrs: { type: 'button', 'data-key': item.key } }, 'Delete'),
        h('button.close-viewer', { attrs: { type: 'button' }, hook: { insert: (v: VNode) => (v.elm as HTMLElement).focus() } }, 'Close'),
      ].filter((v): v is VNode => v !== null)),
    ]),
  ]);
}

export function galleryView(state: AppState): VNode {
  const g = state.gallery;
  const shown = g.items.filter((i) => matches(i, g.filter));
  const w = visibleWindow(shown.length, g.columns, g.scrollTop, g.viewport);
  const open = g.open === null ? undefined : g.items.find((i) => i.key === g.open);
  return h('section.screen.gallery', { attrs: { 'aria-labelledby': 'gallery-title' } }, [
    h('div.screen-head', [
      h('h1#gallery-title', 'Gallery'),
      field('gallery-filter', 'Filter', h('input', { attrs: { id: 'gallery-filter', type: 'search', placeholder: 'job, node or date' }, props: { value: g.filter } })),
      field('gallery-kind', 'Kind', select('gallery-kind', g.kind, ['output', 'upload'], { output: 'outputs', upload: 'uploads' })),
      h('button.refresh-gallery', { attrs: { type: 'button' } }, 'Refresh'),
    ]),
    h('p', { attrs: { role: 'status', 'aria-live': 'polite' } }, g.loading ? 'Loading…' : `${shown.length} images`),
    g.error === null ? null : h('p.error', { attrs: { role: 'alert' } }, g.error),
    h('div.gallery-scroller', { attrs: { tabindex: 0, 'aria-label': 'images' } }, [
      h('div.gallery-space', { style: { height: `${w.height}px` } }, [
        h('ul.gallery-grid', { style: { transform: `translateY(${w.top}px)`, gridTemplateColumns: `repeat(${g.columns}, ${CELL - 16}px)` } }, shown.slice(w.first, w.last).map((item, i) => cell(item, w.first + i))),
      ]),
    ]),
    open === undefined ? null : viewer(state, open),
  ].filter((v): v is VNode => v !== null));
}

export function Gallery(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const dom = sources.DOM;
  const onGallery$ = state$.map((s) => s.path.startsWith('/app/gallery') && s.user !== null && s.debug === null).compose(dropRepeats()).filter(Boolean);
  const refresh$ = dom.select('button.refresh-gallery').events('click');
  const kind$ = dom.select('#gallery-kind').events('change').map((e) => (e.target as HTMLSelectElement).value as GalleryState['kind']);
  const scroller = dom.select('.gallery-scroller');
  const scroll$ = scroller.events('scroll').map((e) => (e.target as HTMLElement).scrollTop);
  const size$ = scroller
    .element()
    .map((el) => `${(el as HTMLElement).clientWidth}x${(el as HTMLElement).clientHeight}`)
    .compose(dropRepeats());
  const finishedJob$ = sources.ws.filter((m) => m.kind === 'event' && m.event.type === 'JobFinished');

  const reload$ = xs.merge(onGallery$, refresh$, kind$.mapTo(true), finishedJob$.compose(sampleCombine(state$)).filter(([, s]) => s.path.startsWith('/app/gallery')));
  const first$ = reload$.compose(sampleCombine(state$)).map(([, s]) => api.artifacts(s.gallery.kind, null));
  const more$ = scroll$
    .compose(sampleCombine(state$))
    .filter(([top, s]) => !s.gallery.loading && !s.gallery.exhausted && s.gallery.cursor !== null && top + s.gallery.viewport > visibleWindow(s.gallery.items.length, s.gallery.columns, 0, 0).height - 2 * CELL)
    .map(([, s]) => api.artifacts(s.gallery.kind, s.gallery.cursor));

  const openKey = (e: Event) => (e.currentTarget as HTMLElement).dataset['key'] ?? '';
  const jobOf = (e: Event) => (e.currentTarget as HTMLElement).dataset['job'] ?? '';
  const delete$ = dom.select('button.delete-item').events('click').map(openKey);
  const rerunClick$ = dom.select('button.rerun-seed').events('click').map(jobOf);
  const rerun$ = sources.random.select('gallery-seed').compose(sampleCombine(state$)).map(([r, s]) => {
    const prompt = s.gallery.open === null ? null : s.jobs[s.gallery.items.find((i) => i.key === s.gallery.open)?.job_id ?? '']?.prompt;
    return prompt === null || prompt === undefined ? null : api.submit('gallery-rerun', reseeded(prompt, Math.floor(r * 2 ** 48)) as Prompt);
  }).filter((x): x is NonNullable<typeof x> => x !== null);
  const outcome$ = answers(sources.HTTP, 'gallery-rerun');
  // The job (with its prompt) of an opened item, when the jobs in state do not have it yet.
  const openJob$ = dom.select('button.open-item').events('click').map(openKey).compose(sampleCombine(state$))
    .map(([key, s]) => s.gallery.items.find((i) => i.key === key)?.job_id ?? null)
    .filter((id): id is string => id !== null)
    .map(api.job);
  const workflowAsk$ = dom.select('button.open-workflow').events('click').map(openKey).compose(sampleCombine(state$))
    .map(([key, s]) => s.gallery.items.find((i) => i.key === key))
    .filter((item): item is Artifact => item !== undefined)
    .map(workflowRequest);
  const workflow$ = workflowAsk$.mapTo<HistoryCommand>({ type: 'push', path: '/app/editor' });

  const reducer$ = xs.merge(
    reload$.mapTo(setGallery((g) => ({ ...g, loading: true, error: null }))),
    more$.mapTo(setGallery((g) => ({ ...g, loading: true }))),
    sources.HTTP.select('artifacts').map((r) => {
      const page = fromArtifacts(r.body);
      const fresh = !r.request.url.includes('cursor=');
      return setGallery((g) => (r.ok ? { ...g, loading: false, items: fresh ? page.items : appendPage(g.items, page.items), cursor: page.next, exhausted: page.next === null } : { ...g, loading: false, error: r.error }));
    }),
    sources.HTTP.select('job').filter((r) => r.ok && isJob(r.body)).map((r) => update((s) => ({ ...s, jobs: { ...s.jobs, [(r.body as { id: string }).id]: { ...(r.body as AppState['jobs'][string]), ...(s.jobs[(r.body as { id: string }).id] ?? {}), prompt: (r.body as { prompt: AppState['jobs'][string]['prompt'] }).prompt } } }))),
    dom.select('#gallery-filter').events('input').map((e) => setGallery((g) => ({ ...g, filter: (e.target as HTMLInputElement).value }))),
    kind$.map((kind) => setGallery((g) => ({ ...g, kind, items: [], cursor: null, scrollTop: 0 }))),
    scroll$.map((top) => setGallery((g) => ({ ...g, scrollTop: top }))),
    size$.map((wh) => {
      const [w, h] = wh.split('x').map(Number);
      return setGallery((g) => ({ ...g, columns: columnsFor(w ?? 800), viewport: h ?? 600 }));
    }),
    dom.select('button.open-item').events('click').map(openKey).map((key) => setGallery((g) => ({ ...g, open: key }))),
    xs.merge(dom.select('button.close-viewer').events('click'), dom.select('.viewer').events('keydown').filter((e) => (e as KeyboardEvent).key === 'Escape'), workflow$).mapTo(setGallery((g) => ({ ...g, open: null }))),
    sources.HTTP.select('artifact-delete').map((r) => setGallery((g) => (r.ok ? { ...g, items: g.items.filter((i) => i.key !== r.request.tag), open: null } : { ...g, error: r.error }))),
    outcome$.map((o) => update((s) => (o.ok ? { ...s, jobs: { ...s.jobs, [o.job.id]: o.job }, gallery: { ...s.gallery, open: null } } : { ...s, gallery: { ...s.gallery, error: o.error } }))),
  );
  return {
    DOM: state$.map(galleryView),
    HTTP: xs.merge(first$, more$, delete$.map(api.deleteArtifact), rerun$, openJob$, workflowAsk$),
    state: reducer$,
    random: rerunClick$.mapTo('gallery-seed'),
    history: workflow$,
  };
}
