// DOM events of the debugger screen as actions. Keys on the timeline: arrows step, Page
// Up/Down scroll a screenful, Home/End go to the first and last record.
import type { MainDOMSource } from '@cycle/dom';
import xs, { type Stream } from 'xstream';
import type { Action } from './reducer';
import { ROW_PX, VISIBLE } from './timeline';
import { KINDS, type Kind, type TextFilter } from './types';

const KEYS: Readonly<Record<string, Action>> = {
  ArrowDown: { type: 'step', dir: 1 },
  ArrowRight: { type: 'step', dir: 1 },
  j: { type: 'step', dir: 1 },
  ArrowUp: { type: 'step', dir: -1 },
  ArrowLeft: { type: 'step', dir: -1 },
  k: { type: 'step', dir: -1 },
  PageDown: { type: 'scroll', rows: VISIBLE },
  PageUp: { type: 'scroll', rows: -VISIBLE },
  Home: { type: 'edge', end: false },
  End: { type: 'edge', end: true },
};

export const keyAction = (key: string): Action | null => KEYS[key] ?? null;

/** Rows to scroll for a wheel turn (pixels, lines or pages). */
export function wheelRows(deltaY: number, deltaMode: number): number {
  const px = deltaMode === 1 ? deltaY * ROW_PX : deltaMode === 2 ? deltaY * VISIBLE * ROW_PX : deltaY;
  if (px === 0) return 0;
  return Math.sign(px) * Math.max(1, Math.round(Math.abs(px) / ROW_PX));
}

const value = (e: Event): string => (e.target as HTMLInputElement).value;
const data = (e: Event, name: string): string => (e.currentTarget as HTMLElement).dataset[name] ?? '';

export function intent(dom: MainDOMSource): Stream<Action> {
  const click = (selector: string): Stream<Event> => dom.select(selector).events('click') as unknown as Stream<Event>;
  const submit = (selector: string): Stream<Event> => dom.select(selector).events('submit', { preventDefault: true }) as unknown as Stream<Event>;
  const list = dom.select('.dbg-list');
  return xs.merge<Action>(
    dom.select('.dbg-session').events('change').map((e): Action => ({ type: 'pick', name: value(e) })),
    click('.dbg-refresh').mapTo<Action>({ type: 'refresh' }),
    dom.select('.dbg-filter').events('input').map((e): Action => ({ type: 'draft', field: data(e, 'field') as TextFilter, value: value(e) })),
    dom.select('.dbg-kind').events('change').map((e): Action => ({ type: 'kind', kind: (KINDS.find((k) => k === data(e, 'kind')) ?? 'event') as Kind, on: (e.target as HTMLInputElement).checked })),
    submit('.dbg-filters').mapTo<Action>({ type: 'apply' }),
    click('.dbg-clear').mapTo<Action>({ type: 'clear-filters' }),
    list.events('wheel', { preventDefault: true }).map((e): Action => ({ type: 'scroll', rows: wheelRows((e as WheelEvent).deltaY, (e as WheelEvent).deltaMode) })),
    list.events('keydown', { preventDefault: (e: Event) => keyAction((e as KeyboardEvent).key) !== null }).map((e) => keyAction((e as KeyboardEvent).key)).filter((a): a is Action => a !== null),
    click('.dbg-row').map((e): Action => ({ type: 'select', seq: Number(data(e, 'seq')) })),
    dom.select('.dbg-scrubber').events('input').map((e): Action => ({ type: 'scrub', seq: Number(value(e)) })),
    click('.dbg-prev').mapTo<Action>({ type: 'step', dir: -1 }),
    click('.dbg-next').mapTo<Action>({ type: 'step', dir: 1 }),
    click('.dbg-first').mapTo<Action>({ type: 'edge', end: false }),
    click('.dbg-last').mapTo<Action>({ type: 'edge', end: true }),
    dom.select('#dbg-jump-seq').events('input').map((e): Action => ({ type: 'jump-text', value: value(e) })),
    submit('.dbg-jump').mapTo<Action>({ type: 'jump' }),
    dom.select('#dbg-job-id').events('input').map((e): Action => ({ type: 'job-text', value: value(e) })),
    click('.dbg-follow').map((e): Action => ({ type: 'follow', on: (e.currentTarget as HTMLElement).getAttribute('aria-pressed') !== 'true' })),
    click('.dbg-toggle').map((e): Action => ({ type: 'toggle', path: data(e, 'path'), open: (e.currentTarget as HTMLElement).getAttribute('aria-expanded') !== 'true' })),
    dom.select('#dbg-whatif-draft').events('input').map((e): Action => ({ type: 'whatif-draft', text: value(e) })),
  );
}
