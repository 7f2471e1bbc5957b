// The editor's whole state: one immutable value. The graph lives in a history of graphs, so that
// undo and redo are moves along the state's own history rather than inverse operations.

import type { Catalog } from "./catalog";
import type { Viewport } from "./geometry";
import type { EdGroup, EdLink, EdNode, Graph, Vec2 } from "./model";
import { emptyGraph } from "./model";
import { initialSaved, type SavedState } from "./saved";

export const HISTORY_LIMIT = 200;

export interface History {
  readonly past: readonly Graph[];
  readonly present: Graph;
  readonly future: readonly Graph[];
}

/** What a pointer gesture in progress is doing; `before` is the graph to record on release. */
export type Interaction =
  | { readonly kind: "idle" }
  | { readonly kind: "pan"; readonly last: Vec2 }
  | { readonly kind: "drag"; readonly nodes: readonly string[]; readonly groups: readonly string[]; readonly last: Vec2; readonly before: Graph }
  | { readonly kind: "resize"; readonly node: string; readonly before: Graph }
  | { readonly kind: "resizeGroup"; readonly group: string; readonly before: Graph }
  | { readonly kind: "connect"; readonly from: string; readonly slot: number; readonly type: string; readonly cursor: Vec2; readonly before: Graph }
  | { readonly kind: "box"; readonly start: Vec2; readonly end: Vec2; readonly additive: boolean }
  | { readonly kind: "minimap" };

/** Nodes and the links among them, positions relative to their top-left: clipboard and presets. */
export interface Fragment {
  readonly nodes: readonly EdNode[];
  readonly links: readonly EdLink[];
  readonly groups: readonly EdGroup[];
}

export interface Preset {
  readonly name: string;
  readonly fragment: Fragment;
}

export type RunStatus = "idle" | "submitting" | "queued" | "running" | "finished" | "failed" | "cancelled" | "rejected";

export interface RunState {
  readonly jobId: string | null;
  readonly status: RunStatus;
  readonly ran: readonly string[];
  readonly cached: readonly string[];
  readonly failed: Readonly<Record<string, string>>;
  readonly current: string | null;
  /** Per-node progress: [value, max]. */
  readonly progress: Readonly<Record<string, readonly [number, number]>>;
  readonly done: number;
  readonly total: number;
  /** Events heard while the job was being submitted: a short job can send all of its events
   * before the answer to POST /api/jobs names it. Replayed once the id is known. */
  readonly early: readonly Readonly<Record<string, unknown>>[];
}

/** Server validation errors, by node id: messages about the node and about each input. */
export type NodeErrors = Readonly<Record<string, { readonly node: readonly string[]; readonly inputs: Readonly<Record<string, readonly string[]>> }>>;

export interface Message {
  readonly kind: "error" | "info";
  readonly text: string;
}

/** A request to focus the field of one input, numbered so that each request focuses once. */
export interface FocusRequest {
  readonly node: string;
  readonly input: string;
  readonly seq: number;
}

export interface EditorState {
  readonly catalog: Catalog | null;
  readonly catalogError: string | null;
  readonly history: History;
  readonly selection: readonly string[];
  readonly selectedGroups: readonly string[];
  readonly viewport: Viewport;
  /** The canvas size in CSS px, reported by the canvas driver. */
  readonly screen: Vec2;
  /** The last pointer position over the canvas (world): where paste and the palette put nodes. */
  readonly pointer: Vec2 | null;
  readonly interaction: Interaction;
  readonly clipboard: Fragment | null;
  readonly message: Message | null;
  readonly nodeErrors: NodeErrors;
  readonly run: RunState;
  readonly presets: readonly Preset[];
  readonly palette: { readonly open: boolean; readonly query: string; readonly at: Vec2 | null };
  readonly outline: boolean;
  readonly minimap: boolean;
  /** A file that arrived before the catalog: widget values cannot be named without it. */
  readonly pendingImport: { readonly name: string; readonly content: string | Uint8Array } | null;
  /** The properties field to focus: asked for by a double-click on a widget row. */
  readonly focusRequest: FocusRequest | null;
  /** The server workflow open in the editor, its dialogs and notices (saved.ts). */
  readonly saved: SavedState;
}

export const idleRun: RunState = { jobId: null, status: "idle", ran: [], cached: [], failed: {}, current: null, progress: {}, done: 0, total: 0, early: [] };

export function initialState(graph: Graph = emptyGraph): EditorState {
  return {
    catalog: null,
    catalogError: null,
    history: { past: [], present: graph, future: [] },
    selection: [],
    selectedGroups: [],
    viewport: { x: 0, y: 0, zoom: 1 },
    screen: [800, 600],
    pointer: null,
    interaction: { kind: "idle" },
    clipboard: null,
    message: null,
    nodeErrors: {},
    run: idleRun,
    presets: [],
    palette: { open: false, query: "", at: null },
    outline: false,
    minimap: true,
    pendingImport: null,
    focusRequest: null,
    saved: initialSaved,
  };
}

export const graphOf = (state: EditorState): Graph => state.history.present;

/** Record `graph` as a new step of the history (nothing is recorded when it did not change). */
export function commit(state: EditorState, graph: Graph): EditorState {
  return commitFrom(state, state.history.present, graph);
}

/** Like `commit`, but the step recorded is `before` (the graph when a gesture began). */
export function commitFrom(state: EditorState, before: Graph, graph: Graph): EditorState {
  if (graph === before) {
    return graph === state.history.present ? state : { ...state, history: { ...state.history, present: graph } };
  }
  const past = [...state.history.past, before].slice(-HISTORY_LIMIT);
  return { ...state, history: { past, present: graph, future: [] }, nodeErrors: pruneErrors(state.nodeErrors, graph) };
}

/** Show `graph` without recording a step: the intermediate frames of a drag. */
export function preview(state: EditorState, graph: Graph): EditorState {
  return graph === state.history.present ? state : { ...state, history: { ...state.history, present: graph } };
}

export function undo(state: EditorState): EditorState {
  const { past, present, future } = state.history;
  const previous = past[past.length - 1];
  if (!previous) return { ...state, message: { kind: "info", text: "nothing to undo" } };
  return withValidSelection({ ...state, history: { past: past.slice(0, -1), present: previous, future: [present, ...future] }, interaction: { kind: "idle" }, message: null });
}

export function redo(state: EditorState): EditorState {
  const { past, present, future } = state.history;
  const next = future[0];
  if (!next) return { ...state, message: { kind: "info", text: "nothing to redo" } };
  return withValidSelection({ ...state, history: { past: [...past, present], present: next, future: future.slice(1) }, interaction: { kind: "idle" }, message: null });
}

/** Drop selected ids that the graph no longer has (after undo, redo or delete). */
export function withValidSelection(state: EditorState): EditorState {
  const graph = graphOf(state);
  const selection = state.selection.filter((id) => id in graph.nodes);
  const selectedGroups = state.selectedGroups.filter((id) => graph.groups.some((g) => g.id === id));
  return selection.length === state.selection.length && selectedGroups.length === state.selectedGroups.length
    ? state
    : { ...state, selection, selectedGroups };
}

function pruneErrors(errors: NodeErrors, graph: Graph): NodeErrors {
  const ids = Object.keys(errors);
  if (ids.every((id) => id in graph.nodes)) return errors;
  const kept: Record<string, NodeErrors[string]> = {};
  for (const id of ids) if (id in graph.nodes) kept[id] = errors[id] as NodeErrors[string];
  return kept;
}
