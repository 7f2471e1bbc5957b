// The video workspace: text-to-video parameters with preview frames; finished clips land in a
// clip list where they are trimmed, ordered and joined with a transition; results play here.
import { h, type VNode } from '@cycle/dom';
import xs from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import type { StorageWrite } from '../drivers/storage';
import { update, type Sinks, type Sources } from '../component';
import { VIDEO_KEYS, pick } from '../model/initial';
import { viewUrl } from '../model/jobs';
import type { AppState, Clip, Job, OutputImage, VideoForm } from '../model/types';
import { choices, generatingNode, joinPrompt, range, seedFor, videoPrompt, type Prompt } from '../model/workflows';
import { field, jobPanel, numberInput, select, textArea } from '../ui';
import { answers } from './submission';

const NUMBERS = new Set(['frames', 'fps', 'width', 'height', 'steps', 'guidance', 'seed', 'transitionFrames']);
const setVideo = (change: (f: VideoForm) => VideoForm) => update((s) => ({ ...s, video: change(s.video) }));

export function videoOf(job: Job | undefined): OutputImage | null {
  for (const output of Object.values(job?.outputs ?? {})) {
    const videos = (output as { videos?: unknown }).videos;
    if (Array.isArray(videos) && videos.length > 0) return videos[0] as OutputImage;
  }
  return null;
}

function player(file: OutputImage, label: string): VNode {
  const url = viewUrl(file);
  return h('figure.player', [h('video', { attrs: { src: url, controls: true, loop: true, preload: 'metadata', 'aria-label': label } }), h('figcaption', [h('a', { attrs: { href: url, download: file.filename } }, `Download ${file.filename}`)])]);
}

function clipRow(clip: Clip, index: number, count: number): VNode {
  const id = `clip-${index}`;
  return h('li.clip', { key: clip.id }, [
    h('span.clip-label', `${index + 1}. ${clip.label}`),
    field(`${id}-start`, 'Start frame', h('input.clip-start', { attrs: { id: `${id}-start`, type: 'number', min: 0, step: 1, 'data-index': index }, props: { value: String(clip.start) } })),
    field(`${id}-length`, 'Frames (0: all)', h('input.clip-length', { attrs: { id: `${id}-length`, type: 'number', min: 0, step: 1, 'data-index': index }, props: { value: String(clip.length) } })),
    h('button.clip-up', { attrs: { type: 'button', 'data-index': index, disabled: index === 0, 'aria-label': `Move clip ${index + 1} up` } }, '↑'),
    h('button.clip-down', { attrs: { type: 'button', 'data-index': index, disabled: index === count - 1, 'aria-label': `Move clip ${index + 1} down` } }, '↓'),
    h('button.clip-remove', { attrs: { type: 'button', 'data-index': index, 'aria-label': `Remove clip ${index + 1}` } }, 'Remove'),
  ]);
}

export function videoView(state: AppState): VNode {
  const f = state.video;
  const cat = state.catalog;
  const r = (input: string, fb: { min: number; max: number; step: number }) => range(cat, 'TextToVideo', input, fb);
  const job = f.jobId === null ? undefined : state.jobs[f.jobId];
  const joined = f.joinJobId === null ? undefined : state.jobs[f.joinJobId];
  const joinedFile = videoOf(joined);
  const transitions = ['cut', ...choices(cat, 'VideoTransition', 'transition')];
  return h('section.screen.workspace', { attrs: { 'aria-labelledby': 'video-title' } }, [
    h('h1#video-title', 'Video'),
    h('div.workspace-grid', [
      h('form.video-form.card', { attrs: { novalidate: true } }, [
        field('video-prompt', 'Prompt', textArea('video-prompt', f.prompt, 3)),
        field('video-negative', 'Negative prompt', textArea('video-negative', f.negative, 2)),
        field('video-checkpoint', 'Model', select('video-checkpoint', f.checkpoint, choices(cat, 'TextToVideo', 'model'))),
        h('div.row', [
          field('video-frames', 'Frames', numberInput('video-frames', f.frames, r('frames', { min: 1, max: 256, step: 1 }))),
          field('video-fps', 'FPS', numberInput('video-fps', f.fps, r('fps', { min: 0.01, max: 1000, step: 0.01 }))),
          field('video-steps', 'Steps', numberInput('video-steps', f.steps, r('steps', { min: 1, max: 500, step: 1 }))),
        ]),
        h('div.row', [
          field('video-width', 'Width', numberInput('video-width', f.width, r('width', { min: 64, max: 2048, step: 8 }))),
          field('video-height', 'Height', numberInput('video-height', f.height, r('height', { min: 64, max: 2048, step: 8 }))),
          field('video-guidance', 'Guidance', numberInput('video-guidance', f.guidance, r('guidance', { min: 0, max: 100, step: 0.1 }))),
        ]),
        h('div.row', [
          field('video-seed', 'Seed', numberInput('video-seed', f.seed, r('seed', { min: 0, max: Number.MAX_SAFE_INTEGER, step: 1 }))),
          field('video-seedMode', 'Seed mode', select('video-seedMode', f.seedMode, ['random', 'fixed'])),
          field('video-format', 'File format', select('video-format', f.format, ['mp4', 'webm', 'gif'], { mp4: 'MP4 (H.264)', webm: 'WebM (VP9)', gif: 'GIF' })),
        ]),
        f.error === null ? null : h('p.error', { attrs: { role: 'alert' } }, f.error),
        h('button.primary', { attrs: { type: 'submit', disabled: f.busy } }, f.busy ? 'Submitting…' : 'Generate clip'),
      ].filter((v): v is VNode => v !== null)),
      h('div.output', [
        job === undefined ? h('p.placeholder', { attrs: { role: 'status' } }, 'Clips appear here.') : jobPanel(job, 'video-job'),
        videoOf(job) === null ? null : player(videoOf(job) as OutputImage, 'the generated clip'),
      ].filter((v): v is VNode => v !== null)),
    ]),
    h('section.clips.card', { attrs: { 'aria-labelledby': 'clips-title' } }, [
      h('h2#clips-title', 'Clips'),
      f.clips.length === 0 ? h('p.placeholder', 'Finished clips are added here.') : h('ol.clip-list', f.clips.map((c, i) => clipRow(c, i, f.clips.length))),
      h('div.row', [
        field('video-transition', 'Transition', select('video-transition', f.transition, transitions)),
        field('video-transitionFrames', 'Transition frames', numberInput('video-transitionFrames', f.transitionFrames, { min: 1, max: 1000, step: 1 })),
        h('button.join', { attrs: { type: 'button', disabled: f.clips.length < 2 } }, 'Join clips'),
      ]),
      joined === undefined ? null : jobPanel(joined, 'join-job'),
      joinedFile === null ? null : player(joinedFile, 'the joined video'),
    ].filter((v): v is VNode => v !== null)),
  ]);
}

const index = (e: Event): number => Number((e.currentTarget as HTMLElement).dataset['index']);

function moved<T>(list: readonly T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length) return [...list];
  const out = [...list];
  const [item] = out.splice(from, 1);
  if (item !== undefined) out.splice(to, 0, item);
  return out;
}

export function Video(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const dom = sources.DOM;
  const edit$ = dom
    .select('.video-form [id^="video-"], .clips [id^="video-"]')
    .events('input')
    .map((e) => {
      const el = e.target as HTMLInputElement;
      const key = el.id.slice('video-'.length);
      const value = NUMBERS.has(key) ? Number(el.value) : el.value;
      return typeof value === 'number' && !Number.isFinite(value) ? null : setVideo((f) => ({ ...f, [key]: value }));
    })
    .filter((x): x is NonNullable<typeof x> => x !== null);
  const clipEdit = (cls: string, key: 'start' | 'length') =>
    dom.select(cls).events('input').map((e) => {
      const i = Number((e.target as HTMLElement).dataset['index']);
      const v = Math.max(0, Math.floor(Number((e.target as HTMLInputElement).value) || 0));
      return setVideo((f) => ({ ...f, clips: f.clips.map((c, j) => (j === i ? { ...c, [key]: v } : c)) }));
    });

  const generate$ = dom.select('form.video-form').events('submit', { preventDefault: true });
  const ready$ = sources.random.select('video-seed').compose(sampleCombine(state$)).map(([r, s]) => ({ form: s.video, seed: seedFor(s.video.seedMode, s.video.seed, r) }));
  const submit$ = ready$.filter(({ form }) => form.checkpoint !== '').map(({ form, seed }) => api.submit('video-submit', videoPrompt(form, seed)));
  const join$ = dom.select('button.join').events('click').compose(sampleCombine(state$)).map(([, s]) => {
    const nodes = Object.fromEntries(s.video.clips.map((c) => [c.id, generatingNode(s.jobs[c.id]?.prompt ?? null)]));
    return joinPrompt(s.video.clips, nodes, s.video);
  });
  const gen$ = answers(sources.HTTP, 'video-submit');
  const joined$ = answers(sources.HTTP, 'video-join');

  // A finished clip of this workspace joins the clip list once.
  const finished$ = state$
    .map((s) => (s.video.jobId === null ? null : s.jobs[s.video.jobId]))
    .filter((j): j is Job => j !== null && j !== undefined && videoOf(j) !== null)
    .compose(dropRepeats((a, b) => a.id === b.id));

  const reducer$ = xs.merge(
    edit$,
    clipEdit('input.clip-start', 'start'),
    clipEdit('input.clip-length', 'length'),
    dom.select('button.clip-up').events('click').map((e) => setVideo((f) => ({ ...f, clips: moved(f.clips, index(e), index(e) - 1) }))),
    dom.select('button.clip-down').events('click').map((e) => setVideo((f) => ({ ...f, clips: moved(f.clips, index(e), index(e) + 1) }))),
    dom.select('button.clip-remove').events('click').map((e) => setVideo((f) => ({ ...f, clips: f.clips.filter((_, j) => j !== index(e)) }))),
    generate$.mapTo(setVideo((f) => (f.checkpoint === '' ? { ...f, error: 'no text-to-video model is available' } : { ...f, busy: true, error: null }))),
    ready$.map(({ seed }) => setVideo((f) => ({ ...f, seed }))),
    gen$.map((o) => (o.ok ? update((s) => ({ ...s, video: { ...s.video, busy: false, jobId: o.job.id }, jobs: { ...s.jobs, [o.job.id]: s.jobs[o.job.id] ?? o.job } })) : setVideo((f) => ({ ...f, busy: false, error: [o.error, ...o.nodeErrors].join('; ') })))),
    join$.filter((p): p is string => typeof p === 'string').map((error) => setVideo((f) => ({ ...f, error }))),
    joined$.map((o) => (o.ok ? update((s) => ({ ...s, video: { ...s.video, joinJobId: o.job.id, error: null }, jobs: { ...s.jobs, [o.job.id]: s.jobs[o.job.id] ?? o.job } })) : setVideo((f) => ({ ...f, error: [o.error, ...o.nodeErrors].join('; ') })))),
    finished$.map((job) => setVideo((f) => {
      const file = videoOf(job);
      if (file === null || f.clips.some((c) => c.id === job.id)) return f;
      return { ...f, clips: [...f.clips, { id: job.id, label: file.filename, file, start: 0, length: 0 }] };
    })),
  );
  const storage$ = state$.map((s) => JSON.stringify(pick(s.video, VIDEO_KEYS))).compose(dropRepeats()).map((value): StorageWrite => ({ area: 'local', key: 'rxgen.video', value }));
  return {
    DOM: state$.map(videoView),
    state: reducer$,
    HTTP: xs.merge(submit$, join$.filter((p): p is Prompt => typeof p !== 'string').map((p) => api.submit('video-join', p))),
    random: generate$.mapTo('video-seed'),
    storage: storage$,
  };
}
