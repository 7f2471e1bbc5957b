import { describe, expect, it } from 'vitest';
import { backoff, parsePreviewFrame, parseTextFrame, parseTextFrames, socketUrl } from '../drivers/wsframes';

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
  it('reads a saved-workflow change, revision 0 being a deletion', () => {
    const changed = (event: Record<string, unknown>) => parseTextFrame(JSON.stringify({ type: 'event', seq: 20, time: 2, event: { $t: 'components.workflow.protocol:WorkflowChanged', ...event } }));
    expect(changed({ workflow_id: 'w1', user_id: '3', name: 'portrait', revision: 4 })).toEqual({ kind: 'workflow', seq: 20, time: 2, change: { workflowId: 'w1', userId: '3', name: 'portrait', revision: 4 } });
    expect(changed({ workflow_id: 'w1', user_id: '3', name: '', revision: 0 })).toMatchObject({ kind: 'workflow', change: { revision: 0 } });
    expect(changed({ user_id: '3', name: 'x', revision: 1 })).toBeNull(); // no id
    expect(changed({ workflow_id: 'w1', revision: -1 })).toBeNull();
    // In a batch, next to job events.
    const batch = parseTextFrames(JSON.stringify({ type: 'events', items: [{ type: 'event', seq: 1, event: { $t: 'x:JobQueued', job_id: 'j' } }, { type: 'event', seq: 2, event: { __type__: 'WorkflowChanged', workflow_id: 'w', user_id: '1', name: 'n', revision: 1 } }] }));
    expect(batch.map((f) => f.kind)).toEqual(['event', 'workflow']);
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
  it('asks for its topics and resumes after the last seq, over wss on https', () => {
    expect(socketUrl({ protocol: 'http:', host: 'h:1' }, null)).toBe('ws://h:1/api/ws?topics=jobs,workflows');
    expect(socketUrl({ protocol: 'https:', host: 'h' }, 41)).toBe('wss://h/api/ws?topics=jobs,workflows&after=41');
    expect(socketUrl({ protocol: 'http:', host: 'h' }, 2, ['jobs'])).toBe('ws://h/api/ws?topics=jobs&after=2');
    expect([1, 2, 3, 10].map(backoff)).toEqual([500, 1000, 2000, 10000]);
  });
});
