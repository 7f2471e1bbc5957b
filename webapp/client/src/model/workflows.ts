// The workspaces' forms as ComfyUI API-format prompts. Only the node names and input names
// the server's catalog publishes are used; the catalog decides choices, ranges and defaults.
import type { Clip, ImageForm, Json, VideoForm } from './types';

export type Prompt = Record<string, { class_type: string; inputs: Record<string, Json> }>;

export type Spec = readonly [unknown, Record<string, unknown>?];

/** The spec of one input of one node type in an object_info catalog. */
export function inputSpec(catalog: Readonly<Record<string, unknown>> | null, node: string, input: string): Spec | null {
  const def = catalog?.[node] as { input?: { required?: Record<string, Spec>; optional?: Record<string, Spec> } } | undefined;
  return def?.input?.required?.[input] ?? def?.input?.optional?.[input] ?? null;
}

/** The choices of a COMBO input, [] when the catalog has none. */
export function choices(catalog: Readonly<Record<string, unknown>> | null, node: string, input: string): string[] {
  const spec = inputSpec(catalog, node, input);
  return spec !== null && Array.isArray(spec[0]) ? spec[0].filter((c): c is string => typeof c === 'string') : [];
}

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}

export function range(catalog: Readonly<Record<string, unknown>> | null, node: string, input: string, fallback: Range): Range {
  const options = inputSpec(catalog, node, input)?.[1] ?? {};
  const pick = (key: keyof Range): number => (typeof options[key] === 'number' ? (options[key] as number) : fallback[key]);
  return { min: pick('min'), max: pick('max'), step: pick('step') };
}

export function clamp(value: number, r: Range): number {
  return Math.min(r.max, Math.max(r.min, value));
}

/** A seed for "random" mode, from a random source given by the caller (main stays pure). */
export function seedFor(mode: 'fixed' | 'random', seed: number, random: number): number {
  return mode === 'fixed' ? seed : Math.floor(random * 2 ** 48);
}

export function imagePrompt(form: ImageForm, seed: number): Prompt {
  const prompt: Prompt = {
    ckpt: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: form.checkpoint } },
    pos: { class_type: 'CLIPTextEncode', inputs: { text: form.prompt, clip: ['ckpt', 1] } },
    neg: { class_type: 'CLIPTextEncode', inputs: { text: form.negative, clip: ['ckpt', 1] } },
  };
  let denoise = 1;
  if (form.mode === 'txt2img' || form.source === null) {
    prompt['latent'] = { class_type: 'EmptyLatentImage', inputs: { width: form.width, height: form.height, batch_size: form.batch } };
  } else if (form.mode === 'img2img') {
    prompt['load'] = { class_type: 'LoadImage', inputs: { image: uploadedName(form.source) } };
    prompt['latent'] = { class_type: 'VAEEncode', inputs: { pixels: ['load', 0], vae: ['ckpt', 2] } };
    denoise = form.denoise;
  } else {
    // The painted mask travels as the transparent pixels of one RGBA upload (LoadImage's MASK
    // output is 1 - alpha), so source and mask cannot get out of step.
    prompt['load'] = { class_type: 'LoadImage', inputs: { image: uploadedName(form.mask ?? form.source) } };
    prompt['latent'] = { class_type: 'VAEEncodeForInpaint', inputs: { pixels: ['load', 0], vae: ['ckpt', 2], mask: ['load', 1], grow_mask_by: 6 } };
  }
  prompt['sample'] = {
    class_type: 'KSampler',
    inputs: {
      model: ['ckpt', 0],
      positive: ['pos', 0],
      negative: ['neg', 0],
      latent_image: ['latent', 0],
      seed,
      steps: form.steps,
      cfg: form.cfg,
      sampler_name: form.sampler,
      scheduler: form.scheduler,
      denoise,
    },
  };
  prompt['decode'] = { class_type: 'VAEDecode', inputs: { samples: ['sample', 0], vae: ['ckpt', 2] } };
  prompt['save'] = { class_type: 'SaveImage', inputs: { images: ['decode', 0], filename_prefix: 'rxgen' } };
  return prompt;
}

export function uploadedName(image: { name: string; subfolder: string }): string {
  return image.subfolder === '' ? image.name : `${image.subfolder}/${image.name}`;
}

function textToVideo(form: Pick<VideoForm, 'checkpoint' | 'prompt' | 'negative' | 'frames' | 'fps' | 'width' | 'height' | 'steps' | 'guidance'>, seed: number) {
  return {
    class_type: 'TextToVideo',
    inputs: {
      model: form.checkpoint,
      prompt: form.prompt,
      negative_prompt: form.negative,
      frames: form.frames,
      fps: form.fps,
      width: form.width,
      height: form.height,
      steps: form.steps,
      guidance: form.guidance,
      seed,
    } as Record<string, Json>,
  };
}

function saveVideo(from: string, format: VideoForm['format'], prefix: string) {
  return { class_type: 'SaveVideo', inputs: { video: [from, 0], filename_prefix: prefix, format, codec: 'auto' } as Record<string, Json> };
}

export function videoPrompt(form: VideoForm, seed: number): Prompt {
  return { t2v: textToVideo(form, seed), save: saveVideo('t2v', form.format, 'video/rxgen') };
}

/**
 * Join clips: each clip's generating node again (the server's cache answers it without
 * recomputing), trimmed with VideoSlice, chained with the chosen transition or a plain cut.
 */
export function joinPrompt(clips: readonly Clip[], sources: Readonly<Record<string, Prompt[string] | undefined>>, form: Pick<VideoForm, 'transition' | 'transitionFrames' | 'format'>): Prompt | string {
  if (clips.length === 0) return 'add at least one clip to the list first';
  const prompt: Prompt = {};
  let previous: string | null = null;
  clips.forEach((clip, index) => {
    const source = sources[clip.id];
    if (source === undefined) return;
    prompt[`clip${index}`] = { class_type: source.class_type, inputs: { ...source.inputs } };
    prompt[`trim${index}`] = { class_type: 'VideoSlice', inputs: { video: [`clip${index}`, 0], start: clip.start, count: clip.length, step: 1 } };
    const current = `trim${index}`;
    if (previous !== null) {
      prompt[`join${index}`] =
        form.transition === 'cut'
          ? { class_type: 'VideoConcat', inputs: { video_1: [previous, 0], video_2: [current, 0], size_mismatch: 'stretch' } }
          : { class_type: 'VideoTransition', inputs: { video_a: [previous, 0], video_b: [current, 0], transition: form.transition, frames: form.transitionFrames, direction: 'left', color: 0, size_mismatch: 'stretch' } };
      previous = `join${index}`;
    } else previous = current;
  });
  if (previous === null) return 'the clips\u2019 generating jobs are not known any more; generate them again';
  prompt['save'] = saveVideo(previous, form.format, 'video/joined');
  return prompt;
}

/** The generating node of a clip's job: the TextToVideo node in the job's prompt. */
export function generatingNode(prompt: Readonly<Record<string, unknown>> | null): Prompt[string] | undefined {
  for (const node of Object.values(prompt ?? {})) {
    const n = node as { class_type?: unknown; inputs?: unknown };
    if (n.class_type === 'TextToVideo' && n.inputs !== null && typeof n.inputs === 'object') {
      return { class_type: 'TextToVideo', inputs: n.inputs as Record<string, Json> };
    }
  }
  return undefined;
}
