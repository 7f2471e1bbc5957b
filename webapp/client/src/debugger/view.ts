// The debugger screen: session picker, filters, the timeline (a virtual list driven by a
// scrubber, the wheel and the keyboard) and the inspector of the selected event.
import { h, type VNode } from '@cycle/dom';
import { exportUrl, KIND_LABELS } from './api';
import { inspectorView } from './inspectorView';
import { bounds, currentSession, isLive } from './model';
import { label, timeText } from './records';
import { cursorOf, indexOf, ROW_PX, VISIBLE } from './timeline';
import { KINDS, type DebuggerState, type LogRecord, type SessionInfo, type TextFilter } from './types';

const present = (nodes: (VNode | null)[]): VNode[] => nodes.filter((v): v is VNode => v !== null);

/** Attributes without the undefined ones (snabbdom would write "undefined"). */
export function attrs(all: Record<string, string | number | boolean | undefined>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(all)) if (v !== undefined) out[k] = v;
  return out;
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function sessionText(s: SessionInfo): string {
  const span = s.first_seq === null ? 'empty' : `seq ${s.first_seq}–${s.last_seq ?? s.first_seq}`;
  return `${s.name}${s.live ? ' (live)' : ''}: ${s.events} events, ${span}, ${sizeText(s.size_bytes)}${s.error === null ? '' : `, unreadable: ${s.error}`}`;
}

function head(s: DebuggerState): VNode {
  const live = isLive(s);
  return h('div.screen-head.dbg-head', [
    h('h1#dbg-title', 'Debugger'),
    h('div.field', [
      h('label', { attrs: { for: 'dbg-session' } }, 'Session'),
      h(
        'select#dbg-session.dbg-session',
        { props: { value: s.session ?? '' } },
        s.sessions.length === 0 ? [h('option', { attrs: { value: '' } }, 'no recorded sessions')] : s.sessions.map((x) => h('option', { attrs: { value: x.name, selected: x.name === s.session } }, `${x.name}${x.live ? ' (live)' : ''}`)),
      ),
    ]),
    h('button.dbg-refresh', { attrs: { type: 'button' } }, 'Reload sessions'),
    h('button.dbg-follow', { attrs: { type: 'button', 'aria-pressed': s.following ? 'true' : 'false', disabled: !live, title: live ? 'Keep the newest records in view as the server records them' : 'Only the live session can be followed' } }, s.following ? 'Pause live' : 'Follow live'),
    s.admin ? h('button.dbg-verify', { attrs: { type: 'button', disabled: s.verifying || s.session === null } }, s.verifying ? 'Verifying…' : 'Verify replay') : null,
    s.admin && !s.readOnly && s.session !== null ? h('a.dbg-export.button', { attrs: { href: exportUrl(s.session), download: `${s.session}.rxlog` } }, 'Export session') : null,
    s.admin && !s.readOnly
      ? h('label.dbg-import-label.button', [
          'Import session',
          h('input.dbg-import.visually-hidden', { attrs: { type: 'file', accept: '.rxlog,.zip,application/zip' } }),
        ])
      : null,
    s.importNote !== null ? h('p.dbg-import-note', { attrs: { role: 'status' } }, s.importNote) : null,
  ].filter((v): v is VNode => v !== null));
}

function verdictView(s: DebuggerState): VNode | null {
  if (s.verifyError !== null) return h('p.dbg-verdict.bad', { attrs: { role: 'alert' } }, `Verify failed to run: ${s.verifyError}`);
  const v = s.verdict;
  if (v === null) return s.verifying ? h('p.dbg-verdict', { attrs: { role: 'status' } }, 'Replaying the session against the current code…') : null;
  const counts = `${v.events} events, ${v.sinks} sinks, ${v.states} states`;
  return v.ok
    ? h('p.dbg-verdict.ok', { attrs: { role: 'status' } }, `Verified: the replay matches the recording (${counts}).`)
    : h('p.dbg-verdict.bad', { attrs: { role: 'alert' } }, `Replay diverged after ${counts}: ${v.divergence ?? 'no detail given'}`);
}

function textField(s: DebuggerState, field: TextFilter, text: string, type = 'text', hint?: string): VNode {
  const id = `dbg-f-${field}`;
  return h('div.field', [
    h('label', { attrs: { for: id } }, text),
    h(`input#${id}.dbg-filter`, { attrs: attrs({ type, name: field, 'data-field': field, placeholder: hint, inputmode: type === 'number' ? 'numeric' : undefined, min: type === 'number' ? 0 : undefined, step: type === 'datetime-local' ? 1 : undefined }), props: { value: s.draft[field] } }),
  ]);
}

function filtersView(s: DebuggerState): VNode {
  return h('form.dbg-filters.card', { attrs: { 'aria-label': 'Filters' } }, [
    h('fieldset.dbg-kinds', [
      h('legend', 'Show'),
      ...KINDS.map((k) => h('label.checkbox', [h('input.dbg-kind', { attrs: { type: 'checkbox', 'data-kind': k }, props: { checked: s.draft.kinds.includes(k) } }), ` ${KIND_LABELS[k]}`])),
    ]),
    h('div.row', [
      textField(s, 'driver', 'Driver', 'text', 'e.g. intake,nodes'),
      textField(s, 'job', 'Job', 'text', 'job ids, comma-separated'),
      textField(s, 'user', 'User', 'text', 'user ids'),
      textField(s, 'start', 'From seq', 'number'),
      textField(s, 'end', 'To seq', 'number'),
      textField(s, 'since', 'Since (local time)', 'datetime-local'),
      textField(s, 'until', 'Until (local time)', 'datetime-local'),
    ]),
    h('div.actions', [h('button.primary', { attrs: { type: 'submit' } }, 'Apply filters'), h('button.dbg-clear', { attrs: { type: 'button' } }, 'Clear filters')]),
    s.filterError === null ? null : h('p.error', { attrs: { role: 'alert' } }, s.filterError),
  ].filter((v): v is VNode => v !== null));
}

const rowId = (r: LogRecord, skip: number): string => `dbg-r-${r.seq}-${skip}`;

function rowView(s: DebuggerState, r: LogRecord, skip: number): VNode {
  const selected = r.seq === s.selected;
  const job = r.jobs[0];
  return h(`div.dbg-row.kind-${r.kind}`, { key: rowId(r, skip), attrs: { id: rowId(r, skip), role: 'option', 'aria-selected': selected ? 'true' : 'false', 'data-seq': r.seq }, class: { selected } }, [
    h('span.dbg-seq', `#${r.seq}`),
    h(`span.dbg-kind`, r.kind),
    h('span.dbg-label', label(r)),
    // Eight characters tell UUIDs apart; the whole ids are in the tooltip and the inspector.
    h('span.dbg-job', job === undefined ? {} : { attrs: { title: r.jobs.join(', ') } }, job === undefined ? '' : `job ${job.slice(0, 8)}${r.jobs.length > 1 ? ` +${r.jobs.length - 1}` : ''}`),
    h('span.dbg-time', timeText(r.time).slice(11)),
  ]);
}

function timelineView(s: DebuggerState): VNode {
  const t = s.timeline;
  const { first, last } = bounds(s);
  const rows = t.window.rows;
  const top = indexOf(rows, t.anchor);
  const shown = rows.slice(top, top + VISIBLE);
  const active = shown.findIndex((r) => r.seq === s.selected);
  const activeRow = active >= 0 ? shown[active] : undefined;
  const status = t.error !== null ? `Could not read the log: ${t.error}` : t.loading !== null && shown.length < VISIBLE ? 'Loading…' : shown.length === 0 ? (s.session === null ? 'No session chosen.' : 'No records match.') : `Showing seq ${shown[0]?.seq ?? ''}–${shown[shown.length - 1]?.seq ?? ''} of ${first}–${last}${s.following ? ', following live' : ''}`;
  return h('section.dbg-timeline.card', { attrs: { 'aria-labelledby': 'dbg-timeline-title' } }, [
    h('h2#dbg-timeline-title', 'Timeline'),
    h('div.dbg-nav', [
      h('button.dbg-first', { attrs: { type: 'button', 'aria-label': 'First record' } }, '|◀ First'),
      h('button.dbg-prev', { attrs: { type: 'button', 'aria-label': 'Step back' } }, '◀ Back'),
      h('button.dbg-next', { attrs: { type: 'button', 'aria-label': 'Step forward' } }, 'Forward ▶'),
      h('button.dbg-last', { attrs: { type: 'button', 'aria-label': 'Last record' } }, 'Last ▶|'),
      h('form.dbg-jump', [
        h('label', { attrs: { for: 'dbg-jump-seq' } }, 'Jump to seq'),
        h('input#dbg-jump-seq', { attrs: { type: 'number', min: 0, inputmode: 'numeric' }, props: { value: s.jumpTo } }),
        h('button', { attrs: { type: 'submit' } }, 'Go'),
      ]),
      h('form.dbg-job', [
        h('label', { attrs: { for: 'dbg-job-id' } }, 'Job'),
        h('input#dbg-job-id', { attrs: { type: 'text', placeholder: 'job id', autocomplete: 'off' }, props: { value: s.jobJump } }),
        h('button', { attrs: { type: 'submit' } }, 'Go to its start'),
      ]),
    ]),
    s.jobError === null ? null : h('p.error', { attrs: { role: 'alert' } }, s.jobError),
    h('div.dbg-scrub', [
      h('label', { attrs: { for: 'dbg-scrubber' } }, 'Position'),
      h('input#dbg-scrubber.dbg-scrubber', { attrs: { type: 'range', min: first, max: last, step: 1, 'aria-valuetext': `seq ${t.anchor.seq} of ${last}` }, props: { value: String(t.anchor.seq) } }),
    ]),
    h(
      'div.dbg-list',
      {
        attrs: attrs({ role: 'listbox', tabindex: 0, 'aria-label': 'Records (arrow keys step, Page Up/Down scroll, Home/End)', 'aria-activedescendant': activeRow === undefined ? undefined : rowId(activeRow, cursorOf(rows, top + active).skip) }),
        style: { height: `${VISIBLE * ROW_PX + 2}px` },
      },
      shown.map((r, i) => rowView(s, r, cursorOf(rows, top + i).skip)),
    ),
    h('p.dbg-window', { attrs: { role: 'status' }, class: { error: t.error !== null } }, status),
  ].filter((v): v is VNode => v !== null));
}

export function debuggerView(s: DebuggerState): VNode {
  const session = currentSession(s);
  return h('section.screen.debugger', { attrs: { 'aria-labelledby': 'dbg-title' } }, present([
    head(s),
    s.sessionsError === null ? null : h('p.error', { attrs: { role: 'alert' } }, `Could not list the sessions: ${s.sessionsError}`),
    session === undefined ? null : h('p.hint.dbg-session-info', sessionText(session)),
    verdictView(s),
    filtersView(s),
    h('div.dbg-body', [timelineView(s), inspectorView(s)]),
  ]));
}
