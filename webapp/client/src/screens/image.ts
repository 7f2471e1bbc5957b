// The image workspace: a form that builds a prompt, an upload for img2img/inpaint with a
// painted mask, and the live panel of the job it submitted.
import xs from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import sampleCombine from 'xstream/extra/sampleCombine';
import * as api from '../api';
import type { StorageWrite } from '../drivers/storage';
import { update, type Sinks, type Sources } from '../component';
import { viewUrl } from '../model/jobs';
import { IMAGE_KEYS, pick } from '../model/initial';
import type { AppState, ImageForm, UploadedImage } from '../model/types';
import { imagePrompt, seedFor } from '../model/workflows';
import { imageView } from './image-view';
import { answers } from './submission';

const NUMBERS = new Set(['steps', 'cfg', 'width', 'height', 'seed', 'batch', 'denoise', 'brush']);

const setImage = (change: (form: ImageForm) => ImageForm) => update((s) => ({ ...s, image: change(s.image) }));

function asUpload(body: unknown): UploadedImage | null {
  const b = body as { name?: unknown; subfolder?: unknown; type?: unknown } | null;
  return b !== null && typeof b.name === 'string' ? { name: b.name, subfolder: typeof b.subfolder === 'string' ? b.subfolder : '', type: typeof b.type === 'string' ? b.type : 'input' } : null;
}

export function ImageScreen(sources: Sources): Sinks {
  const state$ = sources.state.stream;
  const dom = sources.DOM;

  const edit$ = dom
    .select('.image-form [id^="image-"]')
    .events('input')
    .map((e) => {
      const el = e.target as HTMLInputElement;
      const key = el.id.slice('image-'.length);
      if (key === 'file') return null;
      const value: string | number = NUMBERS.has(key) ? Number(el.value) : el.value;
      if (typeof value === 'number' && !Number.isFinite(value)) return null;
      return setImage((f) => ({ ...f, [key]: value }));
    })
    .filter((r): r is NonNullable<typeof r> => r !== null);
  const mode$ = dom.select('input.mode').events('change').map((e) => (e.target as HTMLInputElement).value as ImageForm['mode']);

  // Upload, then (inpaint) painting and the composed mask upload.
  const file$ = dom
    .select('input.image-file')
    .events('change')
    .map((e) => (e.target as HTMLInputElement).files?.[0])
    .filter((f): f is File => f !== undefined);
  const uploadAnswer$ = sources.HTTP.select('image-upload');
  const maskAnswer$ = sources.HTTP.select('image-mask-upload');
  const loaded$ = dom.select('img.mask-source').events('load').map((e) => {
    const img = e.target as HTMLImageElement;
    return [img.naturalWidth, img.naturalHeight] as const;
  });
  const toImage = (e: PointerEvent, s: AppState): [number, number] => {
    const el = e.currentTarget as SVGElement;
    const box = el.getBoundingClientRect();
    const [w, h] = s.image.sourceSize ?? [box.width, box.height];
    return [Math.round(((e.clientX - box.left) / box.width) * w), Math.round(((e.clientY - box.top) / box.height) * h)];
  };
  const layer = dom.select('svg.mask-layer');
  const down$ = layer.events('pointerdown', { preventDefault: true }).compose(sampleCombine(state$)).map(([e, s]) => setImage((f) => ({ ...f, painting: true, strokes: [...f.strokes, { size: f.brush, points: [toImage(e, s)] }] })));
  const move$ = layer
    .events('pointermove')
    .compose(sampleCombine(state$))
    .filter(([, s]) => s.image.painting)
    .map(([e, s]) => {
      const point = toImage(e, s);
      return setImage((f) => {
        const last = f.strokes[f.strokes.length - 1];
        return last === undefined ? f : { ...f, strokes: [...f.strokes.slice(0, -1), { ...last, points: [...last.points, point] }] };
      });
    });
  const up$ = xs.merge(layer.events('pointerup'), layer.events('pointerleave')).mapTo(setImage((f) => ({ ...f, painting: false })));
  const clear$ = dom.select('button.clear-mask').events('click').mapTo(setImage((f) => ({ ...f, strokes: [], mask: null })));
  const apply$ = dom.select('button.apply-mask').events('click').compose(sampleCombine(state$)).map(([, s]) => s.image);
  const maskRequest$ = apply$
    .filter((f) => f.source !== null)
    .map((f) => ({ tag: 'inpaint', imageUrl: viewUrl({ filename: f.source?.name ?? '', subfolder: f.source?.subfolder ?? '', type: f.source?.type ?? 'input' }), strokes: f.strokes }));
  const composed$ = sources.mask.filter((m) => m.tag === 'inpaint');

  // Generate: a random number (used only in random seed mode), then the prompt.
  const generate$ = dom.select('form.image-form').events('submit', { preventDefault: true });
  const random$ = sources.random.select('image-seed');
  const ready$ = random$.compose(sampleCombine(state$)).map(([r, s]) => ({ form: s.image, seed: seedFor(s.image.seedMode, s.image.seed, r) }));
  const invalid = (f: ImageForm): string | null => {
    if (f.checkpoint === '') return 'no model is available: add one with `rxgen models add` and reload';
    if (f.mode !== 'txt2img' && f.source === null) return 'upload a source image first';
    if (f.mode === 'inpaint' && f.mask === null) return 'paint the area to regenerate and press Apply mask first';
    return null;
  };
  const submit$ = ready$.filter(({ form }) => invalid(form) === null).map(({ form, seed }) => api.submit('image-submit', imagePrompt(form, seed), seed));
  const outcome$ = answers(sources.HTTP, 'image-submit');

  const http$ = xs.merge(
    submit$,
    file$.map((f) => api.upload('image-upload', f, f.name)),
    composed$.filter((m): m is { tag: string; blob: Blob } => 'blob' in m).map((m) => api.upload('image-mask-upload', m.blob, 'rxgen-mask.png')),
  );

  const reducer$ = xs.merge(
    edit$,
    mode$.map((mode) => setImage((f) => ({ ...f, mode, error: null }))),
    file$.mapTo(setImage((f) => ({ ...f, uploading: true, error: null }))),
    uploadAnswer$.map((r) => setImage((f) => {
      const source = r.ok ? asUpload(r.body) : null;
      return source === null ? { ...f, uploading: false, error: `upload failed: ${r.error ?? 'unexpected answer'}` } : { ...f, uploading: false, source, mask: null, strokes: [], sourceSize: null };
    })),
    maskAnswer$.map((r) => setImage((f) => ({ ...f, uploading: false, mask: r.ok ? asUpload(r.body) : f.mask, error: r.ok ? null : `mask upload failed: ${r.error ?? ''}` }))),
    composed$.map((m) => setImage((f) => ('error' in m ? { ...f, error: m.error } : { ...f, uploading: true }))),
    loaded$.map((size) => setImage((f) => ({ ...f, sourceSize: size }))),
    down$, move$, up$, clear$,
    generate$.compose(sampleCombine(state$)).map(([, s]) => {
      const problem = invalid(s.image);
      return setImage((f) => (problem === null ? { ...f, busy: true, error: null, nodeErrors: [] } : { ...f, error: problem, nodeErrors: [] }));
    }),
    ready$.map(({ seed }) => setImage((f) => ({ ...f, seed }))),
    outcome$.map((o) =>
      o.ok
        ? update((s) => ({ ...s, image: { ...s.image, busy: false, jobId: o.job.id }, jobs: { ...s.jobs, [o.job.id]: s.jobs[o.job.id] ?? o.job } }))
        : setImage((f) => ({ ...f, busy: false, error: o.error, nodeErrors: o.nodeErrors })),
    ),
  );

  const randomAsk$ = generate$.compose(sampleCombine(state$)).filter(([, s]) => invalid(s.image) === null).mapTo('image-seed');
  const storage$ = state$
    .map((s) => JSON.stringify(pick(s.image, IMAGE_KEYS)))
    .compose(dropRepeats())
    .map((value): StorageWrite => ({ area: 'local', key: 'rxgen.image', value }));
  return { DOM: state$.map(imageView), state: reducer$, HTTP: http$, random: randomAsk$, mask: maskRequest$, storage: storage$ };
}
