// WebSocket driver. Inside, a callbag source owns the socket: it connects, parses frames,
// remembers the last seq and reconnects with ?after=<seq> so no event is lost across a dropped
// connection. Outside, it is an xstream of messages like every other Cycle source.
// The sink says when to connect (after login, optionally resuming after a stored seq) and when
// to disconnect (logout). The socket asks for the topics in wsframes.ts's TOPICS (job events and
// saved-workflow changes), so the server sends nothing else.
import filter from 'callbag-filter';
import map from 'callbag-map';
import pipe from 'callbag-pipe';
import share from 'callbag-share';
import type { Source } from 'callbag';
import xs, { type Stream } from 'xstream';
import { backoff, parsePreviewFrame, parseTextFrames, socketUrl, TOPICS, type Frame } from './wsframes';

export type WsCommand = { readonly type: 'connect'; readonly after: number | null } | { readonly type: 'disconnect' };

export type WsMessage =
  | { readonly kind: 'status'; readonly status: 'connecting' | 'open' | 'closed'; readonly attempt: number }
  | Exclude<Frame, { kind: 'heartbeat' }>
  | { readonly kind: 'preview'; readonly seq: number; readonly url: string };

type Raw = { readonly kind: 'status'; readonly status: 'connecting' | 'open' | 'closed'; readonly attempt: number } | { readonly kind: 'frame'; readonly frame: Frame } | { readonly kind: 'binary'; readonly data: ArrayBuffer };

export interface SocketLike {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

export interface WsEnv {
  open(url: string): SocketLike;
  location: { protocol: string; host: string };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  objectUrl(bytes: Uint8Array, mime: string): string;
}

const browserEnv = (): WsEnv => ({
  open: (url) => new WebSocket(url) as unknown as SocketLike,
  location: window.location,
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
  objectUrl: (bytes, mime) => URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime })),
});

// The callbag protocol, loosely typed at this one boundary: 0 = greet (with the talkback),
// 1 = data, 2 = terminate. The package's own types cannot express a source written by hand.
type Loose = (type: 0 | 1 | 2, data?: unknown) => void;

/** A callbag source of raw socket happenings; reconnects until the sink ends it. */
function socketSource(env: WsEnv, firstAfter: number | null, lastSeq: () => number | null): Source<Raw> {
  const source: Loose = (start, sink) => {
    if (start !== 0) return;
    const talkback = sink as Loose;
    let socket: SocketLike | null = null;
    let timer: unknown = null;
    let ended = false;
    let attempt = 0;
    const connect = (): void => {
      attempt += 1;
      talkback(1, { kind: 'status', status: 'connecting', attempt });
      const after = lastSeq() ?? firstAfter;
      const ws = env.open(socketUrl(env.location, after, TOPICS));
      socket = ws;
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        attempt = 0;
        talkback(1, { kind: 'status', status: 'open', attempt: 0 });
      };
      ws.onmessage = (message) => {
        if (typeof message.data === 'string') for (const frame of parseTextFrames(message.data)) talkback(1, { kind: 'frame', frame });
        else if (message.data instanceof ArrayBuffer) talkback(1, { kind: 'binary', data: message.data });
      };
      ws.onclose = () => {
        socket = null;
        if (ended) return;
        talkback(1, { kind: 'status', status: 'closed', attempt });
        timer = env.setTimeout(connect, backoff(attempt));
      };
    };
    talkback(0, (type: number) => {
      if (type !== 2) return;
      ended = true;
      if (timer !== null) env.clearTimeout(timer);
      if (socket !== null) socket.close();
    });
    connect();
  };
  return source as unknown as Source<Raw>;
}

/** xstream from a callbag source; the callbag is ended when the stream loses its listeners. */
function toStream<T>(source: Source<T>): Stream<T> {
  let talkback: ((type: number) => void) | null = null;
  return xs.create<T>({
    start(listener) {
      const sink: Loose = (type, data) => {
        if (type === 0) talkback = data as (t: number) => void;
        else if (type === 1) listener.next(data as T);
        else if (type === 2) listener.complete();
      };
      (source as unknown as Loose)(0, sink);
    },
    stop() {
      talkback?.(2);
      talkback = null;
    },
  });
}

export function makeWebSocketDriver(envFactory: () => WsEnv = browserEnv) {
  return function webSocketDriver(command$: Stream<WsCommand>): Stream<WsMessage> {
    const env = envFactory();
    return command$
      .map((command) => {
        if (command.type === 'disconnect') return xs.empty<WsMessage>();
        let seq: number | null = null;
        const messages = pipe(
          socketSource(env, command.after, () => seq),
          map((raw: Raw): WsMessage | null => {
            if (raw.kind === 'status') return raw;
            if (raw.kind === 'frame') {
              const frame = raw.frame;
              if (frame.kind === 'heartbeat') return null;
              // hello's seq is where the server stands: resume from there after a reconnect.
              seq = frame.seq;
              return frame;
            }
            const preview = parsePreviewFrame(raw.data);
            return preview === null ? null : { kind: 'preview', seq: preview.seq, url: env.objectUrl(preview.bytes, preview.mime) };
          }),
          filter((m: WsMessage | null): m is WsMessage => m !== null),
          share,
        ) as Source<WsMessage>;
        return toStream(messages);
      })
      .flatten();
  };
}
