// One entry point from Action to next state, plus the keyboard map of the canvas.

import type { Action } from "./actions";
import { searchCatalog } from "./catalog";
import * as C from "./commands";
import { importFile } from "./formats/index";
import * as P from "./pointer";
import * as R from "./runstate";
import { isSavedAction, reduceSaved } from "./saved";
import { type EditorState, graphOf, redo, undo } from "./state";

export function reduce(state: EditorState, action: Action): EditorState {
  if (isSavedAction(action)) return reduceSaved(state, action);
  switch (action.type) {
    case "catalogLoaded": {
      const loaded: EditorState = { ...state, catalog: action.catalog, catalogError: null, pendingImport: null };
      return state.pendingImport ? importInto(loaded, state.pendingImport.name, state.pendingImport.content) : loaded;
    }
    case "importFile":
      if (!state.catalog) return { ...state, pendingImport: { name: action.name, content: action.content }, message: { kind: "info", text: `${action.name} opens once the node catalog has loaded` } };
      return importInto(state, action.name, action.content);
    case "catalogFailed":
      return { ...state, catalogError: action.error, message: { kind: "error", text: action.error } };
    case "canvasResized":
      return state.screen[0] === action.width && state.screen[1] === action.height ? state : { ...state, screen: [action.width, action.height] };
    case "pointerDown":
      return P.pointerDown(state, action.p);
    case "pointerMove":
      return P.pointerMove(state, action.p);
    case "pointerUp":
      return P.pointerUp(state, action.p);
    case "doubleClick":
      return P.doubleClick(state, action.p);
    case "wheel":
      return P.wheel(state, action.sx, action.sy, action.dy);
    case "addNode":
      // A palette opened by a double-click on the canvas puts the node where it was asked for.
      return C.addNode(state, action.nodeType, action.at ?? (state.palette.open ? (state.palette.at ?? undefined) : undefined));
    case "deleteSelection":
      return C.deleteNodes(state, state.selection, state.selectedGroups);
    case "deleteNode":
      return C.deleteNodes(state, [action.node]);
    case "select":
      return C.select(state, action.ids, action.additive);
    case "selectGroup":
      return { ...state, selectedGroups: action.additive ? [...new Set([...state.selectedGroups, action.group])] : [action.group] };
    case "selectAll":
      return C.selectAll(state);
    case "clearSelection":
      return { ...state, selection: [], selectedGroups: [] };
    case "connect":
      return C.connect(state, action.from, action.slot, action.to, action.input);
    case "disconnect":
      return C.disconnect(state, action.to, action.input);
    case "setValue":
      return C.setValue(state, action.node, action.input, action.value);
    case "setTitle":
      return C.setTitle(state, action.node, action.title);
    case "setMode":
      return C.setMode(state, action.node, action.mode);
    case "toggleCollapse":
      return C.toggleCollapse(state, action.node);
    case "nudge":
      return C.nudge(state, action.dx, action.dy);
    case "setPosition": {
      const node = graphOf(state).nodes[action.node];
      return node ? C.setPosition(state, action.node, [action.x ?? node.pos[0], action.y ?? node.pos[1]]) : state;
    }
    case "setSize":
      return C.setSize(state, action.node, action.size);
    case "undo":
      return undo(state);
    case "redo":
      return redo(state);
    case "copy":
      return C.copy(state);
    case "cut":
      return C.cut(state);
    case "paste":
      return C.paste(state, action.at);
    case "groupSelection":
      return C.groupSelection(state, action.title);
    case "deleteGroup":
      return C.deleteNodes(state, [], [action.group]);
    case "renameGroup":
      return C.renameGroup(state, action.group, action.title);
    case "fitView":
      return C.fit(state);
    case "zoom":
      return C.zoom(state, action.factor);
    case "pan":
      return { ...state, viewport: { ...state.viewport, x: state.viewport.x + action.dx / state.viewport.zoom, y: state.viewport.y + action.dy / state.viewport.zoom } };
    case "focusNode":
      return C.focusNode(state, action.node);
    case "savePreset":
      return C.savePreset(state, action.name, action.whole);
    case "insertPreset":
      return C.insertPreset(state, action.name, action.at);
    case "deletePreset":
      return C.deletePreset(state, action.name);
    case "loadGraph":
      return C.loadGraph(state, action.graph, action.warnings);
    case "palette":
      return { ...state, palette: { open: action.open, query: action.query ?? (action.open ? state.palette.query : ""), at: action.at === undefined ? state.palette.at : action.at } };
    case "toggleOutline":
      return { ...state, outline: !state.outline };
    case "toggleMinimap":
      return { ...state, minimap: !state.minimap };
    case "showMessage":
      return { ...state, message: { kind: action.kind, text: action.text } };
    case "dismissMessage":
      return state.message === null ? state : { ...state, message: null };
    case "runSubmitted":
      return R.runSubmitted(state);
    case "runAccepted":
      return R.runAccepted(state, action.jobId);
    case "runRejected":
      return R.runRejected(state, action.text, action.nodeErrors);
    case "serverEvent":
      return R.serverEvent(state, action.event);
    case "export":
      return state;
    case "key": {
      const next = keyAction(state, action);
      return next ? reduce(state, next) : state;
    }
    case "paletteAccept": {
      const first = state.catalog ? searchCatalog(state.catalog, state.palette.query, 1)[0] : undefined;
      if (!first) return { ...state, message: { kind: "info", text: `no node type matches "${state.palette.query}"` } };
      return C.addNode(state, first.name, state.palette.at ?? undefined);
    }
    case "cancelGesture": {
      const it = state.interaction;
      if (it.kind === "drag" || it.kind === "resize" || it.kind === "resizeGroup" || it.kind === "connect") {
        return { ...state, history: { ...state.history, present: it.before }, interaction: { kind: "idle" } };
      }
      return { ...state, interaction: { kind: "idle" }, palette: { ...state.palette, open: false } };
    }
  }
}

const FORMAT_NAMES = { rxgen: "rxgen document", editor: "ComfyUI workflow", api: "ComfyUI API prompt" } as const;

function importInto(state: EditorState, name: string, content: string | Uint8Array): EditorState {
  try {
    const imported = importFile(name, content, state.catalog);
    const loaded = C.loadGraph(state, imported.graph, imported.warnings);
    // Said out loud (a live region) because the canvas change alone is invisible to a screen reader.
    const counts = `${imported.graph.order.length} nodes, ${Object.keys(imported.graph.links).length} links`;
    return loaded.message === null ? { ...loaded, message: { kind: "info", text: `Opened ${name} (${FORMAT_NAMES[imported.format]}): ${counts}.` } } : loaded;
  } catch (error) {
    return { ...state, message: { kind: "error", text: `Could not import ${name}: ${error instanceof Error ? error.message : String(error)}` } };
  }
}

export interface KeyInfo {
  readonly key: string;
  readonly ctrl: boolean;
  readonly shift: boolean;
  readonly alt: boolean;
}

const NUDGE = 10;
const PAN_STEP = 60;

/** The action a key pressed on the canvas means, or null when it means nothing there. */
export function keyAction(state: EditorState, k: KeyInfo): Action | null {
  const key = k.key.length === 1 ? k.key.toLowerCase() : k.key;
  if (k.ctrl) {
    if (key === "z") return k.shift ? { type: "redo" } : { type: "undo" };
    if (key === "y") return { type: "redo" };
    if (key === "c") return { type: "copy" };
    if (key === "x") return { type: "cut" };
    if (key === "v") return { type: "paste" };
    if (key === "a") return { type: "selectAll" };
    if (key === "g") return { type: "groupSelection" };
    return null;
  }
  const hasSelection = state.selection.length > 0;
  const step = k.shift ? NUDGE * 5 : NUDGE;
  switch (key) {
    case "Delete":
    case "Backspace":
      return { type: "deleteSelection" };
    case "Escape":
      return state.interaction.kind !== "idle" || state.palette.open ? { type: "cancelGesture" } : { type: "clearSelection" };
    case "ArrowLeft":
      return hasSelection ? { type: "nudge", dx: -step, dy: 0 } : { type: "pan", dx: -PAN_STEP, dy: 0 };
    case "ArrowRight":
      return hasSelection ? { type: "nudge", dx: step, dy: 0 } : { type: "pan", dx: PAN_STEP, dy: 0 };
    case "ArrowUp":
      return hasSelection ? { type: "nudge", dx: 0, dy: -step } : { type: "pan", dx: 0, dy: -PAN_STEP };
    case "ArrowDown":
      return hasSelection ? { type: "nudge", dx: 0, dy: step } : { type: "pan", dx: 0, dy: PAN_STEP };
    case "+":
    case "=":
      return { type: "zoom", factor: 1.2 };
    case "-":
      return { type: "zoom", factor: 1 / 1.2 };
    case ".":
    case "f":
      return { type: "fitView" };
    case " ":
      return { type: "palette", open: true, query: "", at: state.pointer };
    case "m":
      return { type: "toggleMinimap" };
    case "]":
      return cycleSelection(state, false);
    case "[":
      return cycleSelection(state, true);
    default:
      return null;
  }
}

/** Step through nodes with ] and [ (Tab stays free to leave the canvas). */
function cycleSelection(state: EditorState, back: boolean): Action | null {
  const order = graphOf(state).order;
  if (order.length === 0) return null;
  const current = state.selection.length === 1 ? order.indexOf(state.selection[0] as string) : -1;
  const next = current === -1 ? (back ? order.length - 1 : 0) : (current + (back ? -1 : 1) + order.length) % order.length;
  return { type: "focusNode", node: order[next] as string };
}
