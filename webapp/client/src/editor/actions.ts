// Every change the editor can make, as data. Canvas intents, DOM events, keys and server answers
// all become Actions; `reduce` (reducer.ts) turns an Action into the next state.

import type { Catalog, Json } from "./catalog";
import type { Hit } from "./geometry";
import type { Graph, Vec2 } from "./model";
import type { SavedSummary, SavedWorkflow } from "./saved";
import type { NodeErrors } from "./state";

export interface PointerInfo {
  /** Screen position in CSS px relative to the canvas. */
  readonly sx: number;
  readonly sy: number;
  readonly button: number;
  readonly shift: boolean;
  readonly ctrl: boolean;
  readonly alt: boolean;
  readonly hit: Hit;
}

export type Action =
  | { readonly type: "catalogLoaded"; readonly catalog: Catalog }
  | { readonly type: "catalogFailed"; readonly error: string }
  | { readonly type: "canvasResized"; readonly width: number; readonly height: number }
  | { readonly type: "pointerDown"; readonly p: PointerInfo }
  | { readonly type: "pointerMove"; readonly p: PointerInfo }
  | { readonly type: "pointerUp"; readonly p: PointerInfo }
  | { readonly type: "doubleClick"; readonly p: PointerInfo }
  | { readonly type: "wheel"; readonly sx: number; readonly sy: number; readonly dx: number; readonly dy: number; readonly ctrl: boolean }
  | { readonly type: "addNode"; readonly nodeType: string; readonly at?: Vec2 }
  | { readonly type: "deleteSelection" }
  | { readonly type: "deleteNode"; readonly node: string }
  | { readonly type: "select"; readonly ids: readonly string[]; readonly additive?: boolean }
  | { readonly type: "selectGroup"; readonly group: string; readonly additive?: boolean }
  | { readonly type: "selectAll" }
  | { readonly type: "clearSelection" }
  | { readonly type: "connect"; readonly from: string; readonly slot: number; readonly to: string; readonly input: string }
  | { readonly type: "disconnect"; readonly to: string; readonly input: string }
  | { readonly type: "setValue"; readonly node: string; readonly input: string; readonly value: Json }
  | { readonly type: "setTitle"; readonly node: string; readonly title: string }
  | { readonly type: "setMode"; readonly node: string; readonly mode: number }
  | { readonly type: "toggleCollapse"; readonly node: string }
  | { readonly type: "nudge"; readonly dx: number; readonly dy: number }
  | { readonly type: "setPosition"; readonly node: string; readonly x?: number; readonly y?: number }
  | { readonly type: "setSize"; readonly node: string; readonly size: Vec2 | null }
  | { readonly type: "undo" }
  | { readonly type: "redo" }
  | { readonly type: "copy" }
  | { readonly type: "cut" }
  | { readonly type: "paste"; readonly at?: Vec2 }
  | { readonly type: "groupSelection"; readonly title?: string }
  | { readonly type: "deleteGroup"; readonly group: string }
  | { readonly type: "renameGroup"; readonly group: string; readonly title: string }
  | { readonly type: "fitView" }
  | { readonly type: "zoom"; readonly factor: number }
  | { readonly type: "pan"; readonly dx: number; readonly dy: number }
  | { readonly type: "focusNode"; readonly node: string }
  | { readonly type: "savePreset"; readonly name: string; readonly whole: boolean }
  | { readonly type: "insertPreset"; readonly name: string; readonly at?: Vec2 }
  | { readonly type: "deletePreset"; readonly name: string }
  | { readonly type: "loadGraph"; readonly graph: Graph; readonly warnings?: readonly string[] }
  /** A picked or dropped file: JSON text in any of the three formats, or PNG bytes. */
  | { readonly type: "importFile"; readonly name: string; readonly content: string | Uint8Array }
  | { readonly type: "palette"; readonly open: boolean; readonly query?: string; readonly at?: Vec2 | null }
  | { readonly type: "toggleOutline" }
  | { readonly type: "toggleMinimap" }
  | { readonly type: "showMessage"; readonly kind: "error" | "info"; readonly text: string }
  | { readonly type: "dismissMessage" }
  | { readonly type: "runSubmitted" }
  | { readonly type: "runAccepted"; readonly jobId: string }
  | { readonly type: "runRejected"; readonly text: string; readonly nodeErrors: NodeErrors }
  | { readonly type: "serverEvent"; readonly event: Readonly<Record<string, unknown>> }
  | { readonly type: "cancelGesture" }
  | { readonly type: "key"; readonly key: string; readonly ctrl: boolean; readonly shift: boolean; readonly alt: boolean }
  /** Enter in the palette: add the first node type that matches the query. */
  | { readonly type: "paletteAccept" }
  /** Handled outside the reducer: the graph goes out as a file (the `download` sink). */
  | { readonly type: "export"; readonly format: "rxgen" | "editor" | "api" }
  // Saved workflows on the server (saved.ts).
  /** Save the open workflow (PUT with its revision), or ask for a name when none is open. */
  | { readonly type: "saveWorkflow" }
  /** Ask for a name to save a new copy under. */
  | { readonly type: "saveWorkflowAs" }
  /** The name dialog's answer: save as a new workflow (POST). */
  | { readonly type: "saveNamed"; readonly name: string }
  /** After a 409: save over the revision the server has now. */
  | { readonly type: "overwriteSaved"; readonly id: string; readonly name: string; readonly revision: number }
  /** After a 409: drop the local edits for what the server has now. */
  | { readonly type: "loadTheirs" }
  | { readonly type: "openSavedList" }
  | { readonly type: "openSaved"; readonly id: string }
  | { readonly type: "deleteSaved"; readonly id: string; readonly name: string }
  /** The notice's "Reload": open the newer revision of the open workflow. */
  | { readonly type: "reloadSaved"; readonly id: string }
  | { readonly type: "closeSavedDialog" }
  | { readonly type: "dismissSavedNotice" }
  | { readonly type: "savedListLoaded"; readonly items: readonly SavedSummary[] }
  | { readonly type: "savedListFailed"; readonly text: string }
  | { readonly type: "workflowSaved"; readonly workflow: SavedWorkflow }
  | { readonly type: "workflowSaveFailed"; readonly text: string }
  | { readonly type: "workflowConflict"; readonly current: SavedWorkflow }
  | { readonly type: "workflowOpened"; readonly workflow: SavedWorkflow }
  | { readonly type: "workflowOpenFailed"; readonly text: string }
  | { readonly type: "workflowDeleted"; readonly id: string; readonly name: string }
  /** A WorkflowChanged event from the socket; revision 0: deleted. */
  | { readonly type: "workflowChanged"; readonly workflowId: string; readonly name: string; readonly revision: number };
