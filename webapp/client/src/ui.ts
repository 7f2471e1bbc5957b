// Small view helpers shared by the screens: labelled fields, progress, job cards.
import { h, type VNode } from '@cycle/dom';
import { isActive, outputImages, progressOf, viewUrl } from './model/jobs';
import type { Job } from './model/types';

export function field(id: string, label: string, control: VNode, hint?: string): VNode {
  return h('div.field', [h('label', { attrs: { for: id } }, label), control, hint === undefined ? null : h('small.hint', { attrs: { id: `${id}-hint` } }, hint)].filter((v): v is VNode => v !== null));
}

export function numberInput(id: string, value: number, r: { min: number; max: number; step: number }, extra: Record<string, string | number> = {}): VNode {
  return h('input', { attrs: { id, name: id, type: 'number', min: r.min, max: r.max, step: r.step, inputmode: 'decimal', ...extra }, props: { value: String(value) } });
}

export function select(id: string, value: string, options: readonly string[], labels?: Readonly<Record<string, string>>): VNode {
  const all = options.includes(value) || value === '' ? options : [value, ...options];
  return h(
    'select',
    { attrs: { id, name: id }, props: { value } },
    all.map((o) => h('option', { attrs: { value: o, selected: o === value } }, labels?.[o] ?? o)),
  );
}

export function textArea(id: string, value: string, rows = 3, placeholder = ''): VNode {
  return h('textarea', { attrs: { id, name: id, rows, placeholder }, props: { value } });
}

export function progressBar(job: Job, label: string): VNode {
  const fraction = progressOf(job);
  const attrs: Record<string, string | number> = { role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100 };
  if (fraction !== null) {
    attrs['aria-valuenow'] = Math.round(fraction * 100);
    attrs['aria-valuetext'] = `${Math.round(fraction * 100)} percent`;
  }
  return h('div.progress', { attrs, class: { indeterminate: fraction === null } }, [h('div.progress-fill', { style: { width: `${Math.round((fraction ?? 0) * 100)}%` } })]);
}

export function statusText(job: Job): string {
  if (job.cancelling === true && isActive(job)) return 'cancelling…';
  if (job.status === 'running') {
    const step = job.nodeMax !== undefined && job.nodeMax > 0 ? `, step ${job.nodeValue ?? 0} of ${job.nodeMax}` : '';
    const nodes = job.total !== undefined && job.total > 0 ? `node ${Math.min((job.done ?? 0) + 1, job.total)} of ${job.total}` : 'starting';
    return `running: ${nodes}${step}`;
  }
  if (job.status === 'failed') return `failed: ${errorText(job.error)}`;
  return job.status;
}

export function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    if (typeof e['message'] === 'string') return e['message'];
    if (Array.isArray(error)) return error.map(errorText).join('; ');
    const values = Object.values(e).map(errorText).filter((t) => t !== '');
    if (values.length > 0) return values.join('; ');
  }
  return error === null || error === undefined ? '' : JSON.stringify(error);
}

/** The live panel of one job: status (a polite live region), progress, preview, outputs. */
export function jobPanel(job: Job, cls: string): VNode {
  const images = outputImages(job);
  const active = isActive(job);
  return h(`section.job-panel.${cls}`, { attrs: { 'aria-label': `job ${job.number || ''}`.trim() } }, [
    h('p.job-status', { attrs: { role: 'status', 'aria-live': 'polite' } }, statusText(job)),
    active ? progressBar(job, 'generation progress') : null,
    active && typeof job.preview === 'string' ? h('img.preview', { attrs: { src: job.preview, alt: 'live preview of the image being generated' } }) : null,
    active ? h('button.cancel', { attrs: { type: 'button', 'data-job': job.id, disabled: job.cancelling === true } }, 'Cancel') : null,
    images.length > 0
      ? h(
          'ul.results',
          images.map(({ image }) => h('li', [h('a', { attrs: { href: viewUrl(image), target: '_blank', rel: 'noopener' } }, [h('img', { attrs: { src: viewUrl(image), alt: `result ${image.filename}`, loading: 'lazy' } })])])),
        )
      : null,
  ].filter((v): v is VNode => v !== null));
}
