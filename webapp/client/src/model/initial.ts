import type { AppState, ImageForm, VideoForm } from './types';

export const initialImage: ImageForm = {
  prompt: '',
  negative: '',
  checkpoint: '',
  sampler: '',
  scheduler: '',
  steps: 20,
  cfg: 7,
  width: 512,
  height: 512,
  seed: 0,
  seedMode: 'random',
  batch: 1,
  mode: 'txt2img',
  denoise: 0.6,
  source: null,
  mask: null,
  strokes: [],
  painting: false,
  brush: 24,
  sourceSize: null,
  uploading: false,
  busy: false,
  error: null,
  nodeErrors: [],
  jobId: null,
};

export const initialVideo: VideoForm = {
  prompt: '',
  negative: '',
  checkpoint: '',
  frames: 16,
  fps: 8,
  width: 256,
  height: 256,
  steps: 25,
  guidance: 9,
  seed: 0,
  seedMode: 'random',
  format: 'mp4',
  transition: 'crossfade',
  transitionFrames: 4,
  clips: [],
  busy: false,
  error: null,
  jobId: null,
  joinJobId: null,
};

export function initialState(path: string): AppState {
  return {
    path,
    user: null,
    authChecked: false,
    debug: null,
    catalog: null,
    typeColors: {},
    models: {},
    jobs: {},
    connection: 'closed',
    lastSeq: null,
    toasts: [],
    nextToast: 1,
    permission: 'default',
    login: { name: '', password: '', busy: false, error: null },
    image: initialImage,
    video: initialVideo,
    gallery: { items: [], cursor: null, loading: false, exhausted: false, filter: '', kind: 'output', scrollTop: 0, viewport: 600, columns: 4, open: null, error: null },
    admin: { users: [], newUser: { name: '', password: '', role: 'user' }, tokenName: '', tokenScopes: ['read', 'write'], issuedToken: null, tokens: [], loading: false, message: null, error: null },
  };
}

/** Form fields remembered across visits (localStorage), not the transient ones. */
export const IMAGE_KEYS = ['prompt', 'negative', 'checkpoint', 'sampler', 'scheduler', 'steps', 'cfg', 'width', 'height', 'seed', 'seedMode', 'batch', 'denoise'] as const;
export const VIDEO_KEYS = ['prompt', 'negative', 'checkpoint', 'frames', 'fps', 'width', 'height', 'steps', 'guidance', 'seed', 'seedMode', 'format', 'transition', 'transitionFrames'] as const;

export function pick<T extends object>(value: T, keys: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) out[key] = value[key];
  return out;
}

/** Stored settings over the defaults; anything of the wrong type is ignored. */
export function restore<T extends object>(defaults: T, stored: string | null, keys: readonly (keyof T)[]): T {
  if (stored === null) return defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return defaults;
  }
  if (parsed === null || typeof parsed !== 'object') return defaults;
  const out = { ...defaults };
  for (const key of keys) {
    const value = (parsed as Record<string, unknown>)[key as string];
    if (value !== undefined && typeof value === typeof defaults[key]) out[key] = value as T[typeof key];
  }
  return out;
}
