import { describe, expect, it } from 'vitest';
import xs from 'xstream';
import { makeWebSocketDriver, type SocketLike, type WsCommand, type WsMessage } from '../drivers/websocket';

class FakeSocket implements SocketLike {
  binaryType = 'blob';
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
}

describe('the WebSocket driver', () => {
  it('reconnects after a drop, resuming after the last seq it saw', async () => {
    const sockets: FakeSocket[] = [];
    const timers: (() => void)[] = [];
    const driver = makeWebSocketDriver(() => ({
      open: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      location: { protocol: 'http:', host: 'x' },
      setTimeout: (fn) => timers.push(fn),
      clearTimeout: () => undefined,
      objectUrl: () => 'blob:1',
    }));
    const command$ = xs.create<WsCommand>();
    const seen: WsMessage[] = [];
    driver(command$).addListener({ next: (m) => seen.push(m) });
    command$.shamefullySendNext({ type: 'connect', after: 3 });
    expect(sockets[0]?.url).toBe('ws://x/api/ws?topics=jobs,workflows&after=3');
    sockets[0]?.onopen?.({});
    sockets[0]?.onmessage?.({ data: '{"type":"hello","seq":5,"gap":false}' });
    sockets[0]?.onmessage?.({ data: '{"type":"event","seq":6,"time":0,"event":{"$t":"m:JobQueued","job_id":"j"}}' });
    sockets[0]?.onmessage?.({ data: '{"type":"event","seq":7,"time":0,"event":{"$t":"m:WorkflowChanged","workflow_id":"w","user_id":"1","name":"a","revision":2}}' });
    sockets[0]?.onclose?.({});
    expect(seen.map((m) => m.kind)).toEqual(['status', 'status', 'hello', 'event', 'workflow', 'status']);
    timers.shift()?.();
    expect(sockets[1]?.url).toBe('ws://x/api/ws?topics=jobs,workflows&after=7');
    command$.shamefullySendNext({ type: 'disconnect' });
    await new Promise((r) => setTimeout(r, 5)); // xstream stops an abandoned stream a tick later
    expect(sockets[1]?.closed).toBe(true);
  });
});
