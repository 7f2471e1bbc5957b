// rxgen's node editor: a Cycle.js component and the canvas driver it draws through.
//
// Editor(sources) => sinks
//   sources.DOM      MainDOMSource (@cycle/dom), scoped to the editor when the shell isolates it.
//   sources.state    StateSource<EditorState> (@cycle/state) for the editor's own slice; an
//                    undefined slice is initialised. Persist `state.presets` if presets should
//                    outlive the page (e.g. to local storage); nothing else needs saving.
//   sources.canvas   CanvasSource from makeCanvasDriver(): {intents: Stream<CanvasIntent>}.
//   sources.HTTP?    {select(category?): Stream<EditorHttpResponse>}, the answers to the `HTTP`
//                    sink's requests: {category, status, ok, body (parsed JSON), error (a line)}.
//   sources.ws?      Stream of WebSocket messages; those with kind "event" carry the server event
//                    (components/workflow/protocol.py, class name in "$t"/"__type__"/"type") in
//                    `event`; they feed the run state (ran, cached, failed, per-node progress).
//                    Those with kind "workflow" carry a WorkflowChanged as `change` {workflowId,
//                    name, revision (0: deleted)}: they refresh the list of saved workflows and
//                    tell when the open one was saved or deleted elsewhere.
//   sources.imports? Stream<{name, content: string | Uint8Array}>: a picked or dropped file, JSON
//                    text (rxgen document, ComfyUI editor workflow or API prompt) or PNG bytes.
// sinks
//   DOM        Stream<VNode>: toolbar, canvas element, palette, properties, outline, presets.
//   state      Stream<Reducer<EditorState>>.
//   canvas     Stream<Frame> for the canvas driver (scene, viewport, overlay, minimap flag).
//   HTTP       Stream<EditorHttpRequest>: {category, url, method?, body?} with categories
//              "editor-nodes" (GET /api/nodes), "editor-run" (POST /api/jobs) and the saved
//              workflows' (saved.ts): "editor-workflows" (GET /api/workflows), "editor-workflow-
//              open" (GET one), "editor-workflow-save" (POST, or PUT with the revision; a 409
//              answer carries the current workflow) and "editor-workflow-delete".
//   download   Stream<{filename, mime, text}>: an exported workflow for the shell to save.

import type { MainDOMSource, VNode } from "@cycle/dom";
import type { Reducer, StateSource } from "@cycle/state";
import xs, { type Stream } from "xstream";
import dropRepeats from "xstream/extra/dropRepeats";
import sampleCombine from "xstream/extra/sampleCombine";
import type { Action } from "./actions";
import type { CanvasSource } from "./canvasDriver";
import { parseCatalog } from "./catalog";
import type { Frame } from "./draw";
import { exportWorkflow, type WorkflowFormat } from "./formats/index";
import { canvasAction, domActions } from "./intent";
import { reduce } from "./reducer";
import { parseNodeErrors } from "./runstate";
import { DELETE_CATEGORY, LIST_CATEGORY, OPEN_CATEGORY, SAVE_CATEGORY, savedAnswer, savedRequest } from "./saved";
import { type Overlay, type Scene, overlayOf, sceneMemo } from "./scene";
import { type EditorState, graphOf, initialState } from "./state";
import { view } from "./view";
import "./editor.css";

export interface EditorHttpRequest {
  readonly category: string;
  readonly url: string;
  readonly method?: "GET" | "POST" | "PUT" | "DELETE";
  readonly body?: unknown;
  /** Comes back with the answer, in `request.tag`. */
  readonly tag?: string;
}

export interface EditorHttpResponse {
  readonly category: string;
  readonly status: number;
  readonly ok: boolean;
  readonly body: unknown;
  readonly error: string | null;
  /** The request answered (the shell's HTTP driver hands it back). */
  readonly request?: { readonly url?: string; readonly tag?: unknown };
}

/** A socket message: "event" carries a server event; "workflow" a WorkflowChanged (wsframes.ts). */
export interface EditorWsMessage {
  readonly kind: string;
  readonly event?: unknown;
  readonly change?: { readonly workflowId: string; readonly name: string; readonly revision: number };
}

export interface EditorSources {
  readonly DOM: MainDOMSource;
  readonly state: StateSource<EditorState>;
  readonly canvas: CanvasSource;
  readonly HTTP?: { select(category?: string): Stream<EditorHttpResponse> };
  readonly ws?: Stream<EditorWsMessage>;
  readonly imports?: Stream<{ readonly name: string; readonly content: string | Uint8Array }>;
}

export interface EditorDownload {
  readonly filename: string;
  readonly mime: string;
  readonly text: string;
}

export interface EditorSinks {
  readonly DOM: Stream<VNode>;
  readonly state: Stream<Reducer<EditorState>>;
  readonly canvas: Stream<Frame>;
  readonly HTTP: Stream<EditorHttpRequest>;
  readonly download: Stream<EditorDownload>;
}

export const CATALOG_REQUEST: EditorHttpRequest = { category: "editor-nodes", url: "/api/nodes" };

const FILE_NAMES: Record<WorkflowFormat, string> = { rxgen: "workflow.rxgen.json", editor: "workflow.json", api: "workflow_api.json" };

/** The reducer for an action; the initial state when the slice is still undefined. */
const reducerOf =
  (action: Action): Reducer<EditorState> =>
  (state) =>
    reduce(state ?? initialState(), action);

function catalogActions(http: EditorSources["HTTP"]): Stream<Action> {
  if (!http) return xs.empty();
  const parsed = (body: unknown): Action => {
    try {
      return { type: "catalogLoaded", catalog: parseCatalog(body) };
    } catch (error) {
      return { type: "catalogFailed", error: `The node catalog could not be read: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
  const failed = (r: EditorHttpResponse): Action => ({ type: "catalogFailed", error: `The node catalog could not be loaded (${r.error ?? `HTTP ${r.status}`}); reload the page to try again.` });
  return http.select("editor-nodes").map((r) => (r.ok ? parsed(r.body) : failed(r)));
}

function savedActions(http: EditorSources["HTTP"]): Stream<Action> {
  if (!http) return xs.empty();
  const answers = [LIST_CATEGORY, OPEN_CATEGORY, SAVE_CATEGORY, DELETE_CATEGORY].map((category) => http.select(category));
  return xs.merge(...answers).map(savedAnswer).filter((a): a is Action => a !== null);
}

function runActions(http: EditorSources["HTTP"]): Stream<Action> {
  if (!http) return xs.empty();
  return http.select("editor-run").map((r): Action => {
    const body = (typeof r.body === "object" && r.body !== null ? r.body : {}) as Record<string, unknown>;
    if (r.ok && typeof body.id === "string") return { type: "runAccepted", jobId: body.id };
    return { type: "runRejected", text: r.error ?? `HTTP ${r.status}`, nodeErrors: parseNodeErrors(body.node_errors) };
  });
}

/** Frames for the canvas driver: a new one only when something drawn changed. */
function frames(state$: Stream<EditorState>): Stream<Frame> {
  const scene = sceneMemo();
  let last: { scene: Scene; interaction: EditorState["interaction"]; overlay: Overlay } | null = null;
  return state$
    .map((state): Frame => {
      const current = scene(state);
      if (!last || last.scene !== current || last.interaction !== state.interaction) {
        last = { scene: current, interaction: state.interaction, overlay: overlayOf(state, current) };
      }
      return { scene: current, viewport: state.viewport, overlay: last.overlay, minimap: state.minimap };
    })
    .compose(dropRepeats((a: Frame, b: Frame) => a.scene === b.scene && a.viewport === b.viewport && a.overlay === b.overlay && a.minimap === b.minimap));
}

export function Editor(sources: EditorSources): EditorSinks {
  const state$ = sources.state.stream;
  const actions = xs.merge(
    domActions(sources.DOM),
    sources.canvas.intents.map(canvasAction),
    (sources.ws ?? xs.empty())
      .filter((m) => m.kind === "event" && typeof m.event === "object" && m.event !== null)
      .map((m): Action => ({ type: "serverEvent", event: m.event as Record<string, unknown> })),
    (sources.ws ?? xs.empty())
      .filter((m) => m.kind === "workflow" && m.change !== undefined)
      .map((m): Action => {
        const change = m.change as NonNullable<EditorWsMessage["change"]>;
        return { type: "workflowChanged", workflowId: change.workflowId, name: change.name, revision: change.revision };
      }),
  );
  const allActions = xs.merge(actions, catalogActions(sources.HTTP), runActions(sources.HTTP), savedActions(sources.HTTP));

  const imports = (sources.imports ?? xs.empty()).map((file): Action => ({ type: "importFile", name: file.name, content: file.content }));
  const reducers = xs.merge(xs.of<Reducer<EditorState>>((state) => state ?? initialState()), xs.merge(allActions, imports).map(reducerOf));

  const withState = <T>(stream: Stream<T>): Stream<[T, EditorState]> => stream.compose(sampleCombine(state$));
  const run = withState(allActions.filter((a) => a.type === "runSubmitted")).map(
    ([, state]): EditorHttpRequest => ({ category: "editor-run", url: "/api/jobs", method: "POST", body: { workflow: exportWorkflow(graphOf(state), state.catalog, "rxgen"), priority: 0 } }),
  );
  const saved = withState(allActions)
    .map(([action, state]) => savedRequest(action, state))
    .filter((r): r is EditorHttpRequest => r !== null);
  const download = withState(allActions.filter((a): a is Extract<Action, { type: "export" }> => a.type === "export")).map(
    ([action, state]): EditorDownload => ({
      filename: FILE_NAMES[action.format],
      mime: "application/json",
      text: JSON.stringify(exportWorkflow(graphOf(state), state.catalog, action.format), null, 2),
    }),
  );

  return {
    DOM: state$.map(view),
    state: reducers,
    canvas: frames(state$),
    HTTP: xs.merge(xs.of(CATALOG_REQUEST), run, saved),
    download,
  };
}

export { makeCanvasDriver, CANVAS_SELECTOR, type CanvasIntent, type CanvasSource } from "./canvasDriver";
export type { Frame } from "./draw";
export { type EditorState, initialState } from "./state";
export { reduce } from "./reducer";
export { parseCatalog, type Catalog } from "./catalog";
export { exportWorkflow, importFile, importWorkflow, detectFormat, type WorkflowFormat } from "./formats/index";
export { readPngText, workflowFromPng } from "./png";
export { syntheticGraph } from "./synthetic";
