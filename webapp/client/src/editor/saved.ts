// Saved workflows on the server (/api/workflows, webapp/workflow_routes.py): which one is open,
// with the revision this tab last loaded or saved; the dialogs to name, open and resolve a stale
// save (409); and the notice when another tab or user changes the open workflow. The reducers
// here are pure; `savedRequest` says which request an action sends (the `HTTP` sink).
//
// A request is decided from the action and fields of the state that the action's own reducer
// does not change, so it does not matter whether the state it is sampled with is the one from
// before or after that reducer.

import type { Action } from "./actions";
import * as C from "./commands";
import { exportWorkflow, importWorkflow } from "./formats/index";
import type { Graph } from "./model";
import { type EditorState, graphOf } from "./state";

export const LIST_CATEGORY = "editor-workflows";
export const OPEN_CATEGORY = "editor-workflow-open";
export const SAVE_CATEGORY = "editor-workflow-save";
export const DELETE_CATEGORY = "editor-workflow-delete";

/** A workflow as the list shows it (GET /api/workflows items). */
export interface SavedSummary {
  readonly id: string;
  readonly name: string;
  readonly revision: number;
  readonly updatedAt: string;
}

/** A whole stored workflow (GET /api/workflows/{id}, and `current` of a 409). */
export interface SavedWorkflow extends SavedSummary {
  readonly document: unknown;
}

/** The workflow open in the editor: what the next "Save" overwrites. */
export interface OpenWorkflow {
  readonly id: string;
  readonly name: string;
  readonly revision: number;
}

export type SavedDialog =
  | { readonly kind: "none" }
  /** Asking for a name: the first save ("save") or a new copy ("saveAs"). */
  | { readonly kind: "name"; readonly initial: string }
  | { readonly kind: "open" }
  /** A save was refused: `current` is what the server has now. */
  | { readonly kind: "conflict"; readonly current: SavedWorkflow };

export type SavedNotice =
  | { readonly kind: "newer"; readonly name: string; readonly revision: number }
  | { readonly kind: "deleted"; readonly name: string };

export interface SavedState {
  readonly open: OpenWorkflow | null;
  /** The graph as last opened or saved: the editor has unsaved changes when it differs. */
  readonly savedGraph: Graph | null;
  /** The graph a save in flight sends; null when none is in flight. */
  readonly saving: Graph | null;
  /** The highest revision of the open workflow heard on the socket while a save was in flight. */
  readonly heard: number;
  readonly dialog: SavedDialog;
  readonly list: { readonly items: readonly SavedSummary[]; readonly loading: boolean; readonly error: string | null };
  readonly notice: SavedNotice | null;
}

export const initialSaved: SavedState = {
  open: null,
  savedGraph: null,
  saving: null,
  heard: 0,
  dialog: { kind: "none" },
  list: { items: [], loading: false, error: null },
  notice: null,
};

export type SavedAction = Extract<
  Action,
  {
    type:
      | "saveWorkflow"
      | "saveWorkflowAs"
      | "saveNamed"
      | "overwriteSaved"
      | "loadTheirs"
      | "openSavedList"
      | "openSaved"
      | "deleteSaved"
      | "reloadSaved"
      | "closeSavedDialog"
      | "dismissSavedNotice"
      | "savedListLoaded"
      | "savedListFailed"
      | "workflowSaved"
      | "workflowSaveFailed"
      | "workflowConflict"
      | "workflowOpened"
      | "workflowOpenFailed"
      | "workflowDeleted"
      | "workflowChanged";
  }
>;

const SAVED_TYPES = new Set<string>([
  "saveWorkflow", "saveWorkflowAs", "saveNamed", "overwriteSaved", "loadTheirs", "openSavedList", "openSaved", "deleteSaved", "reloadSaved",
  "closeSavedDialog", "dismissSavedNotice", "savedListLoaded", "savedListFailed", "workflowSaved", "workflowSaveFailed", "workflowConflict",
  "workflowOpened", "workflowOpenFailed", "workflowDeleted", "workflowChanged",
]); // prettier-ignore

export const isSavedAction = (action: Action): action is SavedAction => SAVED_TYPES.has(action.type);

/** Whether the graph differs from the one last opened or saved (an empty new graph is clean). */
export function isDirty(state: EditorState): boolean {
  const graph = graphOf(state);
  return state.saved.savedGraph === null ? graph.order.length > 0 : graph !== state.saved.savedGraph;
}

/** The name the open workflow goes by, for the header. */
export const displayName = (state: EditorState): string => state.saved.open?.name ?? "Untitled workflow";

const withSaved = (state: EditorState, saved: Partial<SavedState>): EditorState => ({ ...state, saved: { ...state.saved, ...saved } });
const info = (text: string) => ({ kind: "info" as const, text });
const error = (text: string) => ({ kind: "error" as const, text });

/** Put a stored workflow in the editor; it becomes the open one, with nothing unsaved. */
function load(state: EditorState, workflow: SavedWorkflow, verb: string): EditorState {
  try {
    const imported = importWorkflow(workflow.document, state.catalog);
    const loaded = C.loadGraph(state, imported.graph, imported.warnings);
    const open = { id: workflow.id, name: workflow.name, revision: workflow.revision };
    const message = loaded.message ?? info(`${verb} “${workflow.name}” (revision ${workflow.revision}).`);
    return { ...loaded, message, saved: { ...state.saved, open, savedGraph: graphOf(loaded), saving: null, heard: 0, dialog: { kind: "none" }, notice: null } };
  } catch (e) {
    return { ...state, message: error(`Could not open “${workflow.name}”: ${e instanceof Error ? e.message : String(e)}`) };
  }
}

export function reduceSaved(state: EditorState, action: SavedAction): EditorState {
  const saved = state.saved;
  switch (action.type) {
    case "saveWorkflow":
      if (saved.saving !== null) return state;
      if (saved.open === null) return withSaved(state, { dialog: { kind: "name", initial: saved.notice?.kind === "deleted" ? saved.notice.name : "" } });
      return withSaved(state, { saving: graphOf(state), heard: 0, dialog: { kind: "none" } });
    case "saveWorkflowAs":
      return withSaved(state, { dialog: { kind: "name", initial: saved.open ? `${saved.open.name} (copy)` : "" } });
    case "saveNamed":
      if (saved.saving !== null) return state;
      if (action.name.trim() === "") return { ...state, message: error("A saved workflow needs a name.") };
      return withSaved(state, { saving: graphOf(state), heard: 0, dialog: { kind: "none" } });
    case "overwriteSaved":
      return saved.saving !== null ? state : withSaved(state, { saving: graphOf(state), heard: 0, dialog: { kind: "none" } });
    case "loadTheirs":
      return saved.dialog.kind === "conflict" ? load(state, saved.dialog.current, "Loaded") : state;
    case "openSavedList":
      return withSaved(state, { dialog: { kind: "open" }, list: { ...saved.list, loading: true, error: null } });
    case "openSaved":
    case "reloadSaved":
      return withSaved(state, { notice: action.type === "reloadSaved" ? null : saved.notice });
    case "deleteSaved":
      return state;
    case "closeSavedDialog":
      return saved.dialog.kind === "none" ? state : withSaved(state, { dialog: { kind: "none" } });
    case "dismissSavedNotice":
      return withSaved(state, { notice: null });
    case "savedListLoaded":
      return withSaved(state, { list: { items: action.items, loading: false, error: null } });
    case "savedListFailed":
      return withSaved(state, { list: { ...saved.list, loading: false, error: action.text } });
    case "workflowSaved": {
      const w = action.workflow;
      const open = { id: w.id, name: w.name, revision: w.revision };
      // Someone else saved after this save, and the socket said so before this answer came.
      const newer = saved.heard > w.revision ? ({ kind: "newer", name: w.name, revision: saved.heard } as const) : null;
      const next = withSaved(state, { open, savedGraph: saved.saving ?? graphOf(state), saving: null, heard: 0, notice: newer });
      return { ...next, message: info(`Saved “${w.name}” (revision ${w.revision}).`) };
    }
    case "workflowSaveFailed":
      return { ...withSaved(state, { saving: null, heard: 0 }), message: error(`The workflow was not saved: ${action.text}`) };
    case "workflowConflict":
      return { ...withSaved(state, { saving: null, heard: 0, dialog: { kind: "conflict", current: action.current } }), message: null };
    case "workflowOpened":
      return load(state, action.workflow, "Opened");
    case "workflowOpenFailed":
      return { ...state, message: error(`The workflow could not be opened: ${action.text}`) };
    case "workflowDeleted": {
      const items = saved.list.items.filter((w) => w.id !== action.id);
      const wasOpen = saved.open?.id === action.id;
      return {
        ...withSaved(state, { list: { ...saved.list, items }, open: wasOpen ? null : saved.open, savedGraph: wasOpen ? null : saved.savedGraph }),
        message: info(`Deleted “${action.name}”${wasOpen ? "; the next save makes a new workflow" : ""}.`),
      };
    }
    case "workflowChanged":
      return changed(state, action.workflowId, action.name, action.revision);
  }
}

/** A WorkflowChanged event (revision 0: deleted) about any of the user's workflows. */
function changed(state: EditorState, id: string, name: string, revision: number): EditorState {
  const saved = state.saved;
  if (saved.open === null || saved.open.id !== id) return state;
  if (revision === 0) {
    return withSaved(state, { open: null, savedGraph: null, notice: { kind: "deleted", name: saved.open.name } });
  }
  // This tab's own save: its answer decides (see workflowSaved).
  if (saved.saving !== null) return revision > saved.heard ? withSaved(state, { heard: revision }) : state;
  if (revision <= saved.open.revision) return state;
  return withSaved(state, { notice: { kind: "newer", name: name || saved.open.name, revision } });
}

export interface SavedRequest {
  readonly category: string;
  readonly url: string;
  readonly method?: "GET" | "POST" | "PUT" | "DELETE";
  readonly body?: unknown;
  /** Comes back with the answer: the name of a deleted workflow, for the message. */
  readonly tag?: string;
}

const url = (id: string): string => `/api/workflows/${encodeURIComponent(id)}`;
const documentOf = (state: EditorState) => exportWorkflow(graphOf(state), state.catalog, "rxgen");

/** The request an action sends, if any (see the header on which state it may read). */
export function savedRequest(action: Action, state: EditorState): SavedRequest | null {
  switch (action.type) {
    case "saveWorkflow": {
      const open = state.saved.open;
      if (open === null) return null;
      return { category: SAVE_CATEGORY, url: url(open.id), method: "PUT", body: { name: open.name, document: documentOf(state), revision: open.revision } };
    }
    case "saveNamed":
      return action.name.trim() === "" ? null : { category: SAVE_CATEGORY, url: "/api/workflows", method: "POST", body: { name: action.name.trim(), document: documentOf(state) } };
    case "overwriteSaved":
      return { category: SAVE_CATEGORY, url: url(action.id), method: "PUT", body: { name: action.name, document: documentOf(state), revision: action.revision } };
    case "openSavedList":
      return { category: LIST_CATEGORY, url: "/api/workflows" };
    case "workflowChanged":
    case "workflowDeleted":
      return state.saved.dialog.kind === "open" ? { category: LIST_CATEGORY, url: "/api/workflows" } : null;
    case "openSaved":
    case "reloadSaved":
      return { category: OPEN_CATEGORY, url: url(action.id) };
    case "deleteSaved":
      return { category: DELETE_CATEGORY, url: url(action.id), method: "DELETE", tag: action.name };
    default:
      return null;
  }
}

// --- answers -----------------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function summaryOf(v: unknown): SavedSummary | null {
  if (!isRecord(v) || typeof v.id !== "string" || typeof v.name !== "string" || typeof v.revision !== "number") return null;
  return { id: v.id, name: v.name, revision: v.revision, updatedAt: typeof v.updated_at === "string" ? v.updated_at : "" };
}

export function workflowOf(v: unknown): SavedWorkflow | null {
  const summary = summaryOf(v);
  return summary === null || !isRecord(v) || !isRecord(v.document) ? null : { ...summary, document: v.document };
}

export interface SavedAnswer {
  readonly category: string;
  readonly status: number;
  readonly ok: boolean;
  readonly body: unknown;
  readonly error: string | null;
  readonly request?: { readonly url?: string; readonly body?: unknown };
}

const reason = (r: SavedAnswer): string => r.error ?? `HTTP ${r.status}`;

/** The action an answer to one of `savedRequest`'s requests means. */
export function savedAnswer(r: SavedAnswer): Action | null {
  switch (r.category) {
    case LIST_CATEGORY: {
      if (!r.ok || !isRecord(r.body) || !Array.isArray(r.body.items)) return { type: "savedListFailed", text: reason(r) };
      return { type: "savedListLoaded", items: r.body.items.map(summaryOf).filter((s): s is SavedSummary => s !== null) };
    }
    case OPEN_CATEGORY: {
      const workflow = r.ok ? workflowOf(r.body) : null;
      return workflow ? { type: "workflowOpened", workflow } : { type: "workflowOpenFailed", text: r.ok ? "the answer carried no workflow" : reason(r) };
    }
    case SAVE_CATEGORY: {
      if (r.status === 409 && isRecord(r.body)) {
        const current = workflowOf(r.body.current);
        if (current) return { type: "workflowConflict", current };
      }
      const workflow = r.ok ? workflowOf(r.body) : null;
      return workflow ? { type: "workflowSaved", workflow } : { type: "workflowSaveFailed", text: r.ok ? "the answer carried no workflow" : reason(r) };
    }
    case DELETE_CATEGORY: {
      const id = decodeURIComponent((r.request?.url ?? "").split("/").pop() ?? "");
      if (r.ok || r.status === 404) return { type: "workflowDeleted", id, name: nameOfDeleted(r) };
      return { type: "showMessage", kind: "error", text: `The workflow was not deleted: ${reason(r)}` };
    }
    default:
      return null;
  }
}

const nameOfDeleted = (r: SavedAnswer): string => {
  const tag = (r.request as { tag?: unknown } | undefined)?.tag;
  return typeof tag === "string" ? tag : "the workflow";
};
