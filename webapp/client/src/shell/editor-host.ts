// Mounts the node editor (src/editor/index.ts, built separately) when it is present in the
// source tree; a build without it shows a notice instead of failing. The editor is started at
// the first login, so the catalog requests it makes on start are authenticated.
import { h, type VNode } from '@cycle/dom';
import isolate from '@cycle/isolate';
import xs, { type Stream } from 'xstream';
import type { Component, Sinks, Sources } from '../component';

export interface EditorModule {
  readonly Editor: (sources: Record<string, unknown>) => Record<string, Stream<unknown> | undefined>;
  readonly makeCanvasDriver?: () => (sink: Stream<unknown>) => unknown;
}

const found = import.meta.glob<EditorModule>('../editor/index.ts', { eager: true });
export const editorModule: EditorModule | null = Object.values(found)[0] ?? null;

const CHANNELS = ['state', 'HTTP', 'canvas', 'download'] as const;

function page(content: VNode[]): VNode {
  return h('section.screen.editor-screen', { attrs: { 'aria-labelledby': 'editor-title' } }, [h('h1#editor-title.visually-hidden', 'Editor'), ...content]);
}

export function EditorHost(sources: Sources): Sinks {
  if (editorModule === null) {
    return { DOM: xs.of(page([h('p.notice', { attrs: { role: 'status' } }, 'The node editor is not part of this build yet (webapp/client/src/editor/index.ts is missing).')])) };
  }
  const editor = isolate(editorModule.Editor as unknown as Component, { state: 'editor', DOM: 'editor', '*': null });
  const instance$ = sources.state.stream
    .filter((s) => s.user !== null)
    .take(1)
    .map(() => editor(sources) as unknown as Record<string, Stream<unknown> | undefined>)
    .remember();
  const sinks: Record<string, Stream<unknown>> = {};
  for (const key of CHANNELS) sinks[key] = instance$.map((s) => s[key] ?? xs.never()).flatten();
  sinks['DOM'] = instance$.map((s) => (s['DOM'] ?? xs.never()) as Stream<VNode>).flatten().map((vnode): unknown => page([vnode]));
  return sinks as unknown as Sinks;
}
