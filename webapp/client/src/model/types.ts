// The application state: one immutable value. Screens get lenses onto their part of it.
import type { Stroke } from '../drivers/mask';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface User {
  readonly id: number;
  readonly name: string;
  readonly role: string;
}

export type JobStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';

export interface OutputImage {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

export interface Job {
  readonly id: string;
  readonly number: number;
  readonly user_id: number;
  readonly status: JobStatus;
  readonly priority: number;
  readonly created_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly outputs: Readonly<Record<string, { images?: readonly OutputImage[] } & Record<string, unknown>>> | null;
  readonly error: unknown;
  readonly prompt: Readonly<Record<string, unknown>> | null;
  /** Live figures from the socket; absent until an event arrives. */
  readonly done?: number;
  readonly total?: number;
  readonly nodeId?: string | null;
  readonly nodeValue?: number;
  readonly nodeMax?: number;
  readonly preview?: string | null;
  readonly cancelling?: boolean;
}

export interface Toast {
  readonly id: number;
  readonly kind: 'info' | 'success' | 'error';
  readonly text: string;
}

export interface Artifact {
  readonly key: string;
  readonly url: string;
  readonly thumbnail: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly created_at: string;
  readonly job_id: string | null;
  readonly node_id: string | null;
  readonly sha256: string;
  readonly media_type: string;
}

export type Connection = 'connecting' | 'open' | 'closed';

/** The recorded log `rxgen debug LOGFILE` serves: the client then offers only the debugger,
 * reads the log and never connects to /api/ws (that app has no jobs and no socket). */
export interface DebugLog {
  readonly log: string;
  readonly path: string;
  readonly readOnly: boolean;
}

export interface AppState {
  readonly path: string;
  readonly user: User | null;
  readonly authChecked: boolean;
  /** Set when the page is served by `rxgen debug` (its /api/auth/me answer says so). */
  readonly debug: DebugLog | null;
  readonly catalog: Readonly<Record<string, unknown>> | null;
  readonly typeColors: Readonly<Record<string, string>>;
  readonly models: Readonly<Record<string, readonly string[]>>;
  readonly jobs: Readonly<Record<string, Job>>;
  readonly connection: Connection;
  readonly lastSeq: number | null;
  readonly toasts: readonly Toast[];
  readonly nextToast: number;
  readonly permission: string;
  readonly login: LoginForm;
  readonly image: ImageForm;
  readonly video: VideoForm;
  readonly gallery: GalleryState;
  readonly admin: AdminState;
  readonly editor?: unknown;
}

export interface LoginForm {
  readonly name: string;
  readonly password: string;
  readonly busy: boolean;
  readonly error: string | null;
}

export interface ImageForm {
  readonly prompt: string;
  readonly negative: string;
  readonly checkpoint: string;
  readonly sampler: string;
  readonly scheduler: string;
  readonly steps: number;
  readonly cfg: number;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  readonly seedMode: 'fixed' | 'random';
  readonly batch: number;
  readonly mode: 'txt2img' | 'img2img' | 'inpaint';
  readonly denoise: number;
  readonly source: UploadedImage | null;
  readonly mask: UploadedImage | null;
  readonly strokes: readonly Stroke[];
  readonly painting: boolean;
  readonly brush: number;
  readonly sourceSize: readonly [number, number] | null;
  readonly uploading: boolean;
  readonly busy: boolean;
  readonly error: string | null;
  readonly nodeErrors: readonly string[];
  readonly jobId: string | null;
}

export interface UploadedImage {
  readonly name: string;
  readonly subfolder: string;
  readonly type: string;
}

export interface Clip {
  readonly id: string; // job id that made it
  readonly label: string;
  readonly file: OutputImage;
  readonly start: number; // trim, in frames
  readonly length: number; // 0 = to the end
}

export interface VideoForm {
  readonly prompt: string;
  readonly negative: string;
  readonly checkpoint: string;
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidance: number;
  readonly seed: number;
  readonly seedMode: 'fixed' | 'random';
  readonly format: 'mp4' | 'webm' | 'gif';
  readonly transition: string;
  readonly transitionFrames: number;
  readonly clips: readonly Clip[];
  readonly busy: boolean;
  readonly error: string | null;
  readonly jobId: string | null;
  readonly joinJobId: string | null;
}

export interface GalleryState {
  readonly items: readonly Artifact[];
  readonly cursor: string | null;
  readonly loading: boolean;
  readonly exhausted: boolean;
  readonly filter: string;
  readonly kind: 'output' | 'upload';
  readonly scrollTop: number;
  readonly viewport: number;
  readonly columns: number;
  readonly open: string | null; // key of the item shown full size
  readonly error: string | null;
}

export interface UserEntry extends User {
  readonly disabled: boolean;
  readonly created_at: string;
}

export interface TokenEntry {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** Absent for a token issued in this page before the list was reloaded. */
  readonly user_id?: number;
  readonly created_at?: string;
  readonly last_used_at?: string | null;
}

export interface AdminState {
  readonly users: readonly UserEntry[];
  readonly newUser: { readonly name: string; readonly password: string; readonly role: string };
  readonly tokenName: string;
  readonly tokenScopes: readonly string[];
  readonly issuedToken: string | null;
  readonly tokens: readonly TokenEntry[];
  /** Whether the lists are being (re)loaded. */
  readonly loading: boolean;
  readonly message: string | null;
  readonly error: string | null;
}
