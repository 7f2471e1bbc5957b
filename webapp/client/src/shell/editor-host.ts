// Mounts the node editor (src/editor/index.ts, built separately) when it is present in the
// source tree; a build without it shows a notice instead of failing. The editor is started at
// the first login, so the catalog requests it makes on start are authenticated.
//
// The host gives the editor what only the shell has: files picked with the "Open" field or
// dropped anywhere on the page (read by the files driver), the workflow of a gallery item
// (GET /api/artifacts/{sha}/workflow, asked for by the gallery), and presets kept in
// localStorage (editor-presets.ts). The editor saves and opens server workflows itself
// (/api/workflows through the HTTP sink; WorkflowChanged on the `ws` source it is given).
import { h, type VNode } from '@cycle/dom';
import isolate from '@cycle/isolate';
import xs, { type Stream } from 'xstream';
import dropRepeats from 'xstream/extra/dropRepeats';
import { update, type Component, type Sinks, type Sources } from '../component';
import type { FileRead } from '../drivers/files';
import { type EditorImport, workflowImport } from './editor-imports';
import { persistPresets } from './editor-presets';
import { addToast } from './live';

export interface EditorModule {
  readonly Editor: (sources: Record<string, unknown>) => Record<string, Stream<unknown> | undefined>;
  readonly makeCanvasDriver?: () => (sink: Stream<unknown>) => unknown;
}

const found = import.meta.glob<EditorModule>('../editor/index.ts', { eager: true });
export const editorModule: EditorModule | null = Object.values(found)[0] ?? null;

const CHANNELS = ['state', 'HTTP', 'canvas', 'download'] as const;
const FILE_TAG = 'editor-import';
export const ACCEPT = '.json,.png,application/json,image/png';

function page(content: VNode[], dropping = false): VNode {
  return h('section.screen.editor-screen', { attrs: { 'aria-labelledby': 'editor-title' }, class: { dropping } }, [h('h1#editor-title.visually-hidden', 'Editor'), ...content]);
}

function openBar(): VNode {
  return h('div.editor-open', [
    h('label', { attrs: { for: 'editor-file' } }, 'Open a workflow (JSON or PNG)'),
    h('input#editor-file', { attrs: { type: 'file', accept: ACCEPT, 'aria-describedby': 'editor-file-hint' } }),
    h('small#editor-file-hint.hint', 'rxgen documents, ComfyUI workflows (editor or API format), or a PNG made by rxgen or ComfyUI; you can also drop the file on the editor.'),
  ]);
}

const filesOf = (e: Event): File[] => {
  const list = (e as DragEvent).dataTransfer?.files ?? (e.target as HTMLInputElement | null)?.files ?? null;
  return list === null ? [] : Array.from(list);
};

// Drops are heard at the document: the editor's own elements are in its isolation scope, which
// the host cannot select into, and a file dropped on the canvas must open all the same.
const inZone = (e: Event): boolean => e.target instanceof Element && e.target.closest('.editor-screen') !== null;
/** Whether a dragleave left the editor page (not just moved from one of its elements to another). */
const leftZone = (e: Event): boolean => {
  const to = (e as DragEvent).relatedTarget;
  return !(to instanceof Element && to.closest('.editor-screen') !== null);
};

export function EditorHost(sources: Sources): Sinks {
  if (editorModule === null) {
    return { DOM: xs.of(page([h('p.notice', { attrs: { role: 'status' } }, 'The node editor is not part of this build yet (webapp/client/src/editor/index.ts is missing).')])) };
  }
  const doc = sources.DOM.select('document');
  // dragover must be cancelled for the browser to allow a drop; Cycle only listens while subscribed.
  const dragover$ = doc.events('dragover', { preventDefault: inZone }).filter(inZone);
  const drop$ = doc.events('drop', { preventDefault: inZone }).filter(inZone);
  const dropping$ = xs.merge(dragover$.mapTo(true), drop$.mapTo(false), doc.events('dragleave').filter(inZone).filter(leftZone).mapTo(false)).startWith(false).compose(dropRepeats());
  const picked$ = sources.DOM.select('#editor-file').events('change');
  const chosen$ = xs.merge(picked$, drop$).map(filesOf).filter((files) => files.length > 0);
  const read$ = xs.merge(
    picked$.map((e): FileRead | null => {
      const input = e.target as HTMLInputElement;
      const file = filesOf(e)[0];
      return file === undefined ? null : { tag: FILE_TAG, file, clear: input };
    }),
    drop$.map((e): FileRead | null => {
      const file = filesOf(e)[0];
      return file === undefined ? null : { tag: FILE_TAG, file };
    }),
  ).filter((r): r is FileRead => r !== null);

  const read = sources.files.select(FILE_TAG);
  const fromGallery = sources.HTTP.select('artifact-workflow');
  const imports: Stream<EditorImport> = xs.merge(
    read.map((c) => ('content' in c ? { name: c.name, content: c.content } : null)),
    fromGallery.map(workflowImport),
  ).filter((i): i is EditorImport => i !== null);
  const problems$ = xs.merge(
    read.map((c) => ('error' in c ? c.error : null)),
    fromGallery.map((r) => (workflowImport(r) === null ? `The workflow could not be opened: ${r.error ?? 'the answer carried no prompt'}` : null)),
  ).filter((text): text is string => text !== null);
  const onlyFirst$ = chosen$.filter((files) => files.length > 1).map((files) => `${files.length} files were given; only ${files[0]?.name ?? 'the first'} was opened.`);

  const editor = isolate(editorModule.Editor as unknown as Component, { state: 'editor', DOM: 'editor', '*': null });
  // Not under `rxgen debug`: that app has no catalog to load and no jobs to run.
  const instance$ = sources.state.stream
    .filter((s) => s.user !== null && s.debug === null)
    .take(1)
    .map(() => editor({ ...sources, imports } as Sources) as unknown as Record<string, Stream<unknown> | undefined>)
    .remember();
  const presets = persistPresets(sources.state.stream, sources.storage);

  const sinks: Record<string, Stream<unknown>> = {};
  for (const key of CHANNELS) sinks[key] = instance$.map((s) => s[key] ?? xs.never()).flatten();
  const editorDom$ = instance$.map((s) => (s['DOM'] ?? xs.never()) as Stream<VNode>).flatten();
  sinks['DOM'] = xs.combine(editorDom$, dropping$).map(([vnode, dropping]): unknown => page([openBar(), vnode], dropping));
  sinks['state'] = xs.merge(sinks['state'] as Stream<unknown>, presets.state, problems$.map((text) => update((s) => addToast(s, 'error', text))), onlyFirst$.map((text) => update((s) => addToast(s, 'info', text))));
  return { ...(sinks as unknown as Sinks), storage: presets.storage, files: read$ };
}
