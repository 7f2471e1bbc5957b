// The inspector: the selected event's payload, what it caused, the files it produced, the diff
// from the state before it, the state after it as a collapsible tree, and what-if.
import { h, type VNode } from '@cycle/dom';
import { artifacts, eventOf, label, pretty, timeText } from './records';
import { diffRows, marks, treeRows } from './tree';
import type { Change, DebuggerState, Inspector, LogRecord, Part, WhatIfReport } from './types';

const present = (nodes: (VNode | null)[]): VNode[] => nodes.filter((v): v is VNode => v !== null);

function partView<T>(p: Part<T>, what: string, ready: (value: T) => VNode): VNode {
  if (p.status === 'loading') return h('p.placeholder', `Loading the ${what}…`);
  if (p.status === 'failed') return h('p.error', `Could not read the ${what}: ${p.error}`);
  return ready(p.value);
}

function eventView(s: DebuggerState, records: readonly LogRecord[]): VNode {
  const event = eventOf(records);
  if (event === undefined) return h('p.placeholder', 'No event at this seq (or none you may see).');
  // A one-seq read has no earlier time stamp to go by; the timeline's row usually has one.
  const time = event.time ?? s.timeline.window.rows.find((r) => r.seq === event.seq && r.time !== null)?.time ?? null;
  return h('div.dbg-event', present([
    h('p', [h('strong', label(event)), time === null ? '' : ` · ${timeText(time)} UTC`]),
    event.jobs.length === 0
      ? null
      : h('p.dbg-jobs', [
          'Jobs: ',
          ...event.jobs.map((j) => h('button.dbg-job-start', { attrs: { type: 'button', 'data-job': j, title: j } }, `Go to the start of job ${j.slice(0, 8)}`)),
        ]),
    h('h3', 'Payload'),
    h('pre.dbg-json', { attrs: { tabindex: 0, 'aria-label': 'Event payload' } }, pretty(event.value)),
    s.admin ? whatIfControls(s, event) : null,
  ]));
}

function causedView(records: readonly LogRecord[]): VNode {
  const caused = records.filter((r) => r.kind !== 'event');
  if (caused.length === 0) return h('p.placeholder', 'Nothing: no sink or state change came of it.');
  return h('ul.dbg-caused', caused.map((r, i) => h('li', { key: `${r.kind}-${i}` }, [h('details', [h('summary', [h(`span.dbg-kind`, r.kind), ` ${label(r)}`]), h('pre.dbg-json', pretty(r.value, 3000))])])));
}

function artifactsView(records: readonly LogRecord[]): VNode | null {
  const files = artifacts(records);
  if (files.length === 0) return null;
  return h('div', [
    h('h3', 'Files it produced'),
    h('ul.dbg-files', files.map((f) => h('li', { key: f.url }, [h('a', { attrs: { href: f.url, target: '_blank', rel: 'noopener' } }, [f.image ? h('img', { attrs: { src: f.url, alt: f.filename, loading: 'lazy', width: 96, height: 96 } }) : null, h('span', f.filename)].filter((v): v is VNode => v !== null))]))),
  ]);
}

function diffView(changes: readonly Change[], seq: number): VNode {
  if (seq === 0) return h('p.placeholder', 'The first record has no previous state.');
  if (changes.length === 0) return h('p.placeholder', 'The state did not change.');
  const { rows, hidden } = diffRows(changes);
  return h('div', present([
    h('ul.dbg-diff', rows.map((r) => h(`li.${r.op}`, { key: `${r.op}${r.path}` }, [h('span.dbg-op', r.op), h('code.dbg-path', r.path), r.op === 'added' ? null : h('span.before', r.before), r.op === 'changed' ? h('span.arrow', { attrs: { 'aria-label': 'becomes' } }, '→') : null, r.op === 'removed' ? null : h('span.after', r.after)].filter((v): v is VNode => v !== null)))),
    hidden > 0 ? h('p.hint', `${hidden} more changes not listed.`) : null,
  ]));
}

function treeView(s: DebuggerState, value: unknown, changes: readonly Change[]): VNode {
  const tree = treeRows(value, s.open, marks(changes));
  if (tree.rows.length === 0) return h('pre.dbg-json', pretty(value));
  return h('div', present([
    h('ul.dbg-tree', { attrs: { 'aria-label': 'State after this event' } }, tree.rows.map((r) =>
      h(`li.dbg-node`, { key: r.path, class: { [`mark-${r.mark ?? 'none'}`]: r.mark !== null }, style: { paddingLeft: `${r.depth * 1.1}rem` } }, [
        r.expandable
          ? h('button.dbg-toggle', { attrs: { type: 'button', 'aria-expanded': r.open ? 'true' : 'false', 'data-path': r.path } }, `${r.open ? '▾' : '▸'} ${r.key}`)
          : h('span.dbg-leaf', r.key),
        h('span.dbg-preview', r.preview),
        r.mark === null || r.mark === 'inside' ? null : h('span.dbg-mark', ` (${r.mark})`),
      ].filter((v): v is VNode => v !== null)),
    )),
    tree.hidden > 0 ? h('p.hint', `${tree.hidden} more entries not shown; collapse others or open a deeper node.`) : null,
  ]));
}

function whatIfControls(s: DebuggerState, event: LogRecord): VNode {
  const w = s.whatIf;
  if (w.unavailable) return h('p.hint.dbg-whatif', 'What-if is not available on this server (it has no /what-if route yet).');
  return h('section.dbg-whatif', { attrs: { 'aria-label': 'What if' } }, present([
    h('h3', 'What if…'),
    h('p.hint', 'Replays the session in a sandbox with this event dropped or edited; the live server is never touched.'),
    h('div.actions', [
      h('button.dbg-drop', { attrs: { type: 'button', disabled: w.busy, 'data-seq': event.seq } }, 'What if it had not happened'),
      h('button.dbg-edit', { attrs: { type: 'button', disabled: w.busy, 'aria-expanded': w.editing ? 'true' : 'false' } }, w.editing ? 'Cancel editing' : 'Edit it and replay'),
    ]),
    w.editing
      ? h('form.dbg-whatif-form', [
          h('label', { attrs: { for: 'dbg-whatif-draft' } }, 'Edited payload (JSON)'),
          h('textarea#dbg-whatif-draft', { attrs: { rows: 8, spellcheck: 'false' }, props: { value: w.draft } }),
          h('button.primary', { attrs: { type: 'submit', disabled: w.busy } }, 'Replay with this payload'),
        ])
      : null,
    w.busy ? h('p', { attrs: { role: 'status' } }, 'Replaying in a sandbox…') : null,
    w.error === null ? null : h('p.error', { attrs: { role: 'alert' } }, w.error),
    w.report === null ? null : reportView(w.report),
  ]));
}

function reportView(r: WhatIfReport): VNode {
  const verdict = r.fault !== null ? `Main failed on the edited stream: ${r.fault}` : r.firstDifference === null ? `No difference: later sinks and states are the same through seq ${r.comparedThrough}.` : `First difference at seq ${r.firstDifference}.`;
  return h('div.dbg-report', { attrs: { role: 'status' } }, present([
    h('p', [h('strong', verdict), ` Replayed ${r.events} events from ${r.replayedFrom === 0 ? 'the start' : `the snapshot at seq ${r.replayedFrom}`}${r.complete ? ' to the end of the log' : ''}.`]),
    r.stopped === null ? null : h('p.hint', `Stopped early: ${r.stopped}`),
    r.differences.length === 0
      ? null
      : h('ol.dbg-differences', r.differences.map((d) => h('li', { key: String(d.seq) }, present([
          h('strong', `seq ${d.seq}`),
          d.sinks.length === 0 ? null : h('ul', d.sinks.map((x) => h(`li.${x.op === 'added' || x.op === 'removed' ? x.op : 'changed'}`, `${x.op} sink to ${x.driver} #${x.index}: ${x.op === 'added' ? '' : `recorded ${JSON.stringify(x.recorded)?.slice(0, 160)}`}${x.op === 'changed' ? ' → ' : ''}${x.op === 'removed' ? '' : `replayed ${JSON.stringify(x.replayed)?.slice(0, 160)}`}`))),
          d.state.length === 0 ? null : diffView(d.state, d.seq),
        ])))),
    r.finalState.length === 0 ? null : h('div', [h('h4', 'Final state, recording → what-if'), diffView(r.finalState, 1)]),
  ]));
}

function body(s: DebuggerState, i: Inspector): VNode[] {
  const changes = i.diff.status === 'ready' ? i.diff.value : [];
  return [
    partView(i.records, 'records', (records) => h('div', present([eventView(s, records), h('h3', 'What it caused'), causedView(records), artifactsView(records)]))),
    h('h3', 'Diff from the previous state'),
    partView(i.diff, 'diff', (c) => diffView(c, i.seq)),
    h('h3', 'State after this event'),
    partView(i.state, 'state', (value) => treeView(s, value, changes)),
  ];
}

export function inspectorView(s: DebuggerState): VNode {
  const i = s.inspector;
  return h('section.dbg-inspector.card', { attrs: { 'aria-labelledby': 'dbg-inspector-title', 'aria-live': 'off' } }, [
    h('h2#dbg-inspector-title', i === null ? 'Selected event' : `Event #${i.seq}`),
    ...(i === null ? [h('p.placeholder', 'Select a record in the timeline (click it, or focus the list and use the arrow keys).')] : body(s, i)),
  ]);
}
