import { describe, expect, it } from 'vitest';
import { backoff, parsePreviewFrame, parseTextFrame, socketUrl } from '../drivers/wsframes';

describe('socket frames', () => {
  it('reads an event frame and names the event by its class', () => {
    const frame = parseTextFrame(JSON.stringify({ type: 'event', seq: 15, time: 1.5, event: { job_id: 'j', done: 4, total: 7, $t: 'components.workflow.protocol:JobProgress' } }));
    expect(frame).toEqual({ kind: 'event', seq: 15, time: 1.5, event: { job_id: 'j', done: 4, total: 7, $t: 'components.workflow.protocol:JobProgress', type: 'JobProgress' } });
  });
  it('accepts __type__ as the class key', () => {
    const frame = parseTextFrame('{"type":"event","seq":2,"event":{"__type__":"JobFinished","job_id":"a"}}');
    expect(frame?.kind === 'event' && frame.event.type).toBe('JobFinished');
  });
  it('reads hello and heartbeat, ignores what it does not know', () => {
    expect(parseTextFrame('{"type":"hello","seq":9,"gap":true}')).toEqual({ kind: 'hello', seq: 9, gap: true });
    expect(parseTextFrame('{"type":"heartbeat"}')).toEqual({ kind: 'heartbeat' });
    expect(parseTextFrame('not json')).toBeNull();
    expect(parseTextFrame('{"type":"event","seq":1,"event":{"$t":"x:JobQueued"}}')).toBeNull(); // no job id
  });
  it('reads a binary preview frame', () => {
    const bytes = new Uint8Array([0x52, 0x58, 0x50, 0x31, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 2, 9, 8, 7]);
    const frame = parsePreviewFrame(bytes.buffer);
    expect(frame?.seq).toBe(258);
    expect(frame?.mime).toBe('image/png');
    expect(Array.from(frame?.bytes ?? [])).toEqual([9, 8, 7]);
  });
  it('refuses frames with another magic or format', () => {
    const bad = new Uint8Array([0x52, 0x58, 0x50, 0x32, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect(parsePreviewFrame(bad.buffer)).toBeNull();
    const format = new Uint8Array([0x52, 0x58, 0x50, 0x31, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0]);
    expect(parsePreviewFrame(format.buffer)).toBeNull();
  });
  it('resumes after the last seq, over wss on https', () => {
    expect(socketUrl({ protocol: 'http:', host: 'h:1' }, null)).toBe('ws://h:1/api/ws');
    expect(socketUrl({ protocol: 'https:', host: 'h' }, 41)).toBe('wss://h/api/ws?after=41');
    expect([1, 2, 3, 10].map(backoff)).toEqual([500, 1000, 2000, 10000]);
  });
});
