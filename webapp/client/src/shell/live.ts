// The live side: socket messages become job updates, toasts and browser notifications; the
// last seq is kept in sessionStorage so a reload resumes the stream where it was.
import xs from 'xstream';
import { update, type Sinks, type Sources } from '../component';
import type { StorageWrite } from '../drivers/storage';
import type { WsMessage } from '../drivers/websocket';
import { applyEvent, applyPreview } from '../model/jobs';
import type { AppState, Toast } from '../model/types';
import { errorText } from '../ui';

const MAX_TOASTS = 4;

export function addToast(state: AppState, kind: Toast['kind'], text: string): AppState {
  const toast: Toast = { id: state.nextToast, kind, text };
  return { ...state, toasts: [...state.toasts, toast].slice(-MAX_TOASTS), nextToast: state.nextToast + 1 };
}

/** The job a binary preview belongs to: the JobProgress event with the same seq. */
interface SeqJob {
  readonly seq: number;
  readonly job: string;
}

function label(state: AppState, jobId: string): string {
  const job = state.jobs[jobId];
  return job !== undefined && job.number > 0 ? `Job ${job.number}` : 'A job';
}

export function reduceMessage(state: AppState, message: WsMessage, last: SeqJob | null): AppState {
  switch (message.kind) {
    case 'status': {
      let next: AppState = { ...state, connection: message.status };
      if (message.status === 'closed' && state.connection === 'open') next = addToast(next, 'error', 'Connection to the server lost; reconnecting…');
      if (message.status === 'open' && state.connection === 'closed' && state.lastSeq !== null) next = addToast(next, 'info', 'Connection restored.');
      return next;
    }
    case 'hello':
      return { ...state, lastSeq: message.seq };
    case 'event': {
      const { event } = message;
      let next: AppState = { ...state, lastSeq: message.seq, jobs: applyEvent(state.jobs, event, message.time) };
      if (event.type === 'JobFinished') next = addToast(next, 'success', `${label(state, event.job_id)} finished.`);
      if (event.type === 'JobFailed' || event.type === 'JobRejected') next = addToast(next, 'error', `${label(state, event.job_id)} failed: ${errorText(event['errors'] ?? event['error'] ?? event['text'])}`);
      return next;
    }
    case 'workflow':
      // Heard so the resume point stays exact; the editor (src/editor/saved.ts) hears the same
      // messages on its own `ws` source: it refreshes its list and tells about the open workflow.
      return { ...state, lastSeq: message.seq };
    case 'preview':
      return last !== null && last.seq === message.seq ? { ...state, jobs: applyPreview(state.jobs, last.job, message.url) } : state;
  }
}

export function Live(sources: Sources): Sinks {
  const withLast$ = sources.ws.fold<{ message: WsMessage | null; last: SeqJob | null }>(
    (acc, message) => ({ message, last: message.kind === 'event' && message.event.type === 'JobProgress' ? { seq: message.seq, job: message.event.job_id } : acc.last }),
    { message: null, last: null },
  );
  const reducer$ = withLast$
    .filter((x) => x.message !== null)
    .map(({ message, last }) => update((s) => reduceMessage(s, message as WsMessage, last)));

  const events$ = sources.ws.filter((m): m is Extract<WsMessage, { kind: 'event' }> => m.kind === 'event');
  const notify$ = events$
    .filter((m) => m.event.type === 'JobFinished' || m.event.type === 'JobFailed')
    .map((m) => ({ type: 'notify' as const, title: m.event.type === 'JobFinished' ? 'rxgen: job finished' : 'rxgen: job failed', body: `job ${m.event.job_id.slice(0, 8)}`, tag: m.event.job_id }));
  const askNotify$ = sources.DOM.select('button.ask-notify').events('click').mapTo({ type: 'ask' as const });
  const permission$ = sources.notify.map((permission) => update((s) => ({ ...s, permission })));

  const dismiss$ = sources.DOM.select('button.toast-close')
    .events('click')
    .map((e) => Number((e.currentTarget as HTMLElement).dataset['toast']))
    .map((id) => update((s) => ({ ...s, toasts: s.toasts.filter((t) => t.id !== id) })));

  const storage$ = sources.ws
    .filter((m): m is Extract<WsMessage, { kind: 'event' | 'workflow' }> => m.kind === 'event' || m.kind === 'workflow')
    .map((m): StorageWrite => ({ area: 'session', key: 'rxgen.lastSeq', value: String(m.seq) }));
  return { state: xs.merge(reducer$, permission$, dismiss$), notify: xs.merge(notify$, askNotify$), storage: storage$ };
}
