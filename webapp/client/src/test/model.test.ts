import { describe, expect, it } from 'vitest';
import { appendPage, columnsFor, fromArtifacts, reseeded, visibleWindow, CELL } from '../model/gallery';
import { initialImage, initialVideo, restore, IMAGE_KEYS } from '../model/initial';
import { choices, imagePrompt, joinPrompt, range } from '../model/workflows';
import { redirect } from '../shell/routes';
import { nodeErrorLines } from '../screens/submission';

const catalog = {
  KSampler: { input: { required: { steps: ['INT', { min: 1, max: 10000 }], sampler_name: [['euler', 'ddim'], {}] } } },
};

describe('workflows', () => {
  it('reads choices and ranges from the catalog', () => {
    expect(choices(catalog, 'KSampler', 'sampler_name')).toEqual(['euler', 'ddim']);
    expect(range(catalog, 'KSampler', 'steps', { min: 0, max: 1, step: 1 })).toEqual({ min: 1, max: 10000, step: 1 });
    expect(choices(null, 'KSampler', 'sampler_name')).toEqual([]);
  });
  it('builds txt2img, img2img and inpaint prompts', () => {
    const form = { ...initialImage, checkpoint: 'tiny', sampler: 'euler', scheduler: 'normal' };
    const t = imagePrompt(form, 7);
    expect(t['latent']?.class_type).toBe('EmptyLatentImage');
    expect(t['sample']?.inputs['seed']).toBe(7);
    const source = { name: 'a.png', subfolder: '', type: 'input' };
    const i = imagePrompt({ ...form, mode: 'img2img', source, denoise: 0.4 }, 1);
    expect(i['latent']?.class_type).toBe('VAEEncode');
    expect(i['sample']?.inputs['denoise']).toBe(0.4);
    const p = imagePrompt({ ...form, mode: 'inpaint', source, mask: { name: 'm.png', subfolder: 'x', type: 'input' } }, 1);
    expect(p['load']?.inputs['image']).toBe('x/m.png');
    expect(p['latent']?.inputs['mask']).toEqual(['load', 1]);
  });
  it('joins trimmed clips with a transition or a cut', () => {
    const node = { class_type: 'TextToVideo', inputs: { seed: 1 } };
    const clips = [
      { id: 'a', label: 'a', file: { filename: 'a', subfolder: '', type: 'output' }, start: 2, length: 4 },
      { id: 'b', label: 'b', file: { filename: 'b', subfolder: '', type: 'output' }, start: 0, length: 0 },
    ];
    const joined = joinPrompt(clips, { a: node, b: node }, { ...initialVideo, transition: 'cut' });
    expect(typeof joined).toBe('object');
    if (typeof joined === 'string') return;
    expect(joined['trim0']?.inputs).toMatchObject({ start: 2, count: 4 });
    expect(joined['join1']?.class_type).toBe('VideoConcat');
    expect(joined['save']?.inputs['video']).toEqual(['join1', 0]);
    expect(joinPrompt([], {}, initialVideo)).toMatch(/at least one clip/);
  });
});

describe('gallery', () => {
  it('renders only the rows in view', () => {
    const w = visibleWindow(10_000, 5, CELL * 100, CELL * 4, 2);
    expect(w.first).toBe(98 * 5);
    expect(w.last).toBe(106 * 5);
    expect(w.height).toBe(2000 * CELL);
    expect(columnsFor(CELL * 3 + 10)).toBe(3);
  });
  it('reads artifact pages and drops duplicates', () => {
    const page = fromArtifacts({ items: [{ sha256: 'x', url: '/u', thumbnail_url: '/t' }, { nope: 1 }], next_cursor: 'c' });
    expect(page.items.map((i) => i.key)).toEqual(['x']);
    expect(page.next).toBe('c');
    expect(appendPage(page.items, page.items)).toHaveLength(1);
  });
  it('re-seeds every sampler', () => {
    const out = reseeded({ s: { class_type: 'KSampler', inputs: { seed: 1, steps: 3 } }, t: { class_type: 'X', inputs: {} } }, 9);
    expect(out).toEqual({ s: { class_type: 'KSampler', inputs: { seed: 9, steps: 3 } }, t: { class_type: 'X', inputs: {} } });
  });
});

describe('routes, settings and errors', () => {
  it('sends logged-out users to the login page and admins-only pages away from users', () => {
    expect(redirect('/app/gallery', false, false)).toBe('/app/login');
    expect(redirect('/app/login', true, false)).toBe('/app/image');
    expect(redirect('/app/admin', true, false)).toBe('/app/image');
    expect(redirect('/app/admin', true, true)).toBeNull();
    expect(redirect('/app/x', null, false)).toBeNull();
  });
  it('restores stored settings of the right type only', () => {
    const r = restore(initialImage, JSON.stringify({ steps: 9, prompt: 3, busy: true }), IMAGE_KEYS);
    expect(r.steps).toBe(9);
    expect(r.prompt).toBe('');
    expect(r.busy).toBe(false);
    expect(restore(initialImage, '{bad', IMAGE_KEYS)).toBe(initialImage);
  });
  it('turns node_errors into lines naming node and input', () => {
    const lines = nodeErrorLines({ node_errors: { '5': { class_type: 'KSampler', errors: [{ message: 'out of range', details: 'steps 0 < 1', extra_info: { input_name: 'steps' } }] } } });
    expect(lines).toEqual(['node 5 (KSampler), input steps: out of range: steps 0 < 1']);
  });
});
