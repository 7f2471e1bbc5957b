// The image workspace's view: a pure function of the state.
import { h, type VNode } from '@cycle/dom';
import { viewUrl } from '../model/jobs';
import type { AppState, ImageForm } from '../model/types';
import { choices, range } from '../model/workflows';
import { field, jobPanel, numberInput, select, textArea } from '../ui';

const MODES: readonly [ImageForm['mode'], string][] = [
  ['txt2img', 'Text to image'],
  ['img2img', 'Image to image'],
  ['inpaint', 'Inpaint'],
];

function modePicker(form: ImageForm): VNode {
  return h('fieldset.modes', [
    h('legend', 'Mode'),
    ...MODES.map(([mode, label]) =>
      h('label.radio', [h('input.mode', { attrs: { type: 'radio', name: 'image-mode', value: mode, checked: form.mode === mode }, props: { checked: form.mode === mode } }), ` ${label}`]),
    ),
  ]);
}

function sourcePicker(form: ImageForm): VNode | null {
  if (form.mode === 'txt2img') return null;
  const source = form.source;
  const url = source === null ? null : viewUrl({ filename: source.name, subfolder: source.subfolder, type: source.type || 'input' });
  const painter =
    form.mode === 'inpaint' && url !== null
      ? h('div.painter', [
          h('p.hint#painter-hint', 'Paint over the area to regenerate (pointer), then press Apply mask.'),
          h('div.painter-stage', [
            h('img.mask-source', { attrs: { src: url, alt: 'the uploaded image to inpaint' } }),
            form.sourceSize === null
              ? null
              : h(
                  'svg.mask-layer',
                  { attrs: { viewBox: `0 0 ${form.sourceSize[0]} ${form.sourceSize[1]}`, 'aria-hidden': 'true', preserveAspectRatio: 'none' } },
                  form.strokes.map((stroke) =>
                    h('polyline', { attrs: { points: stroke.points.map(([x, y]) => `${x},${y}`).join(' '), 'stroke-width': stroke.size, fill: 'none', stroke: 'rgba(255,64,64,0.6)', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' } }),
                  ),
                ),
          ].filter((v): v is VNode => v !== null)),
          h('div.row', [
            field('image-brush', 'Brush size', numberInput('image-brush', form.brush, { min: 1, max: 512, step: 1 })),
            h('button.clear-mask', { attrs: { type: 'button', disabled: form.strokes.length === 0 } }, 'Clear mask'),
            h('button.apply-mask', { attrs: { type: 'button', disabled: form.strokes.length === 0 || form.uploading } }, 'Apply mask'),
          ]),
          h('p.hint', { attrs: { role: 'status' } }, form.mask === null ? 'No mask applied yet.' : `Mask applied (${form.mask.name}).`),
        ])
      : null;
  return h('fieldset.source', [
    h('legend', form.mode === 'inpaint' ? 'Image to inpaint' : 'Source image'),
    field('image-file', 'Upload an image', h('input.image-file', { attrs: { id: 'image-file', type: 'file', accept: 'image/png,image/jpeg,image/webp' } })),
    form.uploading ? h('p.hint', { attrs: { role: 'status' } }, 'Uploading…') : null,
    source !== null && form.mode === 'img2img' && url !== null ? h('img.source-thumb', { attrs: { src: url, alt: `uploaded source ${source.name}` } }) : null,
    form.mode === 'img2img' ? field('image-denoise', 'Denoise', numberInput('image-denoise', form.denoise, { min: 0, max: 1, step: 0.01 }), 'lower keeps more of the source') : null,
    painter,
  ].filter((v): v is VNode => v !== null));
}

export function imageView(state: AppState): VNode {
  const form = state.image;
  const cat = state.catalog;
  const job = form.jobId === null ? undefined : state.jobs[form.jobId];
  const ks = (input: string, fb: { min: number; max: number; step: number }) => range(cat, 'KSampler', input, fb);
  const size = (input: string) => range(cat, 'EmptyLatentImage', input, { min: 16, max: 16384, step: 8 });
  return h('section.screen.workspace', { attrs: { 'aria-labelledby': 'image-title' } }, [
    h('h1#image-title', 'Image'),
    h('div.workspace-grid', [
      h('form.image-form.card', { attrs: { novalidate: true } }, [
        modePicker(form),
        field('image-prompt', 'Prompt', textArea('image-prompt', form.prompt, 3, 'what the image should show')),
        field('image-negative', 'Negative prompt', textArea('image-negative', form.negative, 2, 'what it should not show')),
        field('image-checkpoint', 'Model', select('image-checkpoint', form.checkpoint, choices(cat, 'CheckpointLoaderSimple', 'ckpt_name'))),
        h('div.row', [
          field('image-sampler', 'Sampler', select('image-sampler', form.sampler, choices(cat, 'KSampler', 'sampler_name'))),
          field('image-scheduler', 'Scheduler', select('image-scheduler', form.scheduler, choices(cat, 'KSampler', 'scheduler'))),
        ]),
        h('div.row', [
          field('image-steps', 'Steps', numberInput('image-steps', form.steps, ks('steps', { min: 1, max: 10000, step: 1 }))),
          field('image-cfg', 'CFG', numberInput('image-cfg', form.cfg, ks('cfg', { min: 0, max: 100, step: 0.1 }))),
          field('image-batch', 'Batch size', numberInput('image-batch', form.batch, range(cat, 'EmptyLatentImage', 'batch_size', { min: 1, max: 64, step: 1 }))),
        ]),
        form.mode === 'txt2img'
          ? h('div.row', [field('image-width', 'Width', numberInput('image-width', form.width, size('width'))), field('image-height', 'Height', numberInput('image-height', form.height, size('height')))])
          : null,
        h('div.row', [
          field('image-seed', 'Seed', numberInput('image-seed', form.seed, ks('seed', { min: 0, max: Number.MAX_SAFE_INTEGER, step: 1 }))),
          field('image-seedMode', 'Seed mode', select('image-seedMode', form.seedMode, ['random', 'fixed'], { random: 'random each time', fixed: 'fixed' })),
        ]),
        sourcePicker(form),
        form.error === null ? null : h('div.error', { attrs: { role: 'alert' } }, [h('p', form.error), form.nodeErrors.length > 0 ? h('ul', form.nodeErrors.map((e) => h('li', e))) : null].filter((v): v is VNode => v !== null)),
        h('button.primary.generate', { attrs: { type: 'submit', disabled: form.busy } }, form.busy ? 'Submitting…' : 'Generate'),
      ].filter((v): v is VNode => v !== null)),
      h('div.output', job === undefined ? [h('p.placeholder', { attrs: { role: 'status', 'aria-live': 'polite' } }, 'Results appear here.')] : [jobPanel(job, 'image-job')]),
    ]),
  ]);
}
