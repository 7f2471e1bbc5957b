// Editing commands: the reducers behind the toolbar, the keyboard, the outline view and the
// palette. Each takes the state and returns the next one; graph changes go through `commit`, so
// each is one undo step.

import { findInput, type Json } from "./catalog";
import { centerOn, fitView, toWorld, zoomAt } from "./geometry";
import { extractFragment, insertFragment, wholeGraphFragment } from "./fragment";
import { nodeRect } from "./layout";
import * as M from "./model";
import { type EditorState, commit, graphOf, type Preset, withValidSelection } from "./state";

const info = (state: EditorState, text: string): EditorState => ({ ...state, message: { kind: "info", text } });
const error = (state: EditorState, text: string): EditorState => ({ ...state, message: { kind: "error", text } });

/** The world point at the centre of the canvas: where keyboard-made nodes appear. */
export function viewCenter(state: EditorState): M.Vec2 {
  return toWorld(state.viewport, state.screen[0] / 2, state.screen[1] / 2);
}

/** `at`, moved down-right past nodes already there, so that new nodes never hide each other. */
function freeSpot(graph: M.Graph, at: M.Vec2): M.Vec2 {
  let [x, y] = [Math.round(at[0]), Math.round(at[1])];
  const taken = (): boolean => Object.values(graph.nodes).some((n) => Math.abs(n.pos[0] - x) < 20 && Math.abs(n.pos[1] - y) < 20);
  for (let i = 0; i < 50 && taken(); i += 1) [x, y] = [x + 40, y + 40];
  return [x, y];
}

export function addNode(state: EditorState, nodeType: string, at?: M.Vec2): EditorState {
  if (state.catalog && !state.catalog.nodes[nodeType]) return error(state, `unknown node type ${nodeType}; pick one from the palette`);
  const pos = freeSpot(graphOf(state), at ?? viewCenter(state));
  const [graph, id] = M.addNode(graphOf(state), state.catalog, nodeType, pos);
  return { ...commit(state, graph), selection: [id], selectedGroups: [], palette: { open: false, query: "", at: null }, message: null };
}

export function deleteNodes(state: EditorState, ids: readonly string[], groups: readonly string[] = []): EditorState {
  if (ids.length === 0 && groups.length === 0) return info(state, "nothing selected to delete");
  const graph = M.removeGroups(M.removeNodes(graphOf(state), ids), new Set(groups));
  return withValidSelection({ ...commit(state, graph), message: null });
}

export function connect(state: EditorState, from: string, slot: number, to: string, input: string): EditorState {
  const result = M.connect(graphOf(state), state.catalog, from, slot, to, input);
  if (!result.ok) return error(state, `Connection refused: ${result.error}`);
  return { ...commit(state, result.value), message: null };
}

export function disconnect(state: EditorState, to: string, input: string): EditorState {
  return commit(state, M.disconnect(graphOf(state), to, input));
}

/** Set a literal input, checked against the catalog's choices and range. */
export function setValue(state: EditorState, node: string, input: string, value: Json): EditorState {
  const graph = graphOf(state);
  const target = graph.nodes[node];
  if (!target) return state;
  const def = state.catalog?.nodes[target.type];
  const spec = def ? findInput(def, input) : undefined;
  if (spec && typeof value === "number") {
    if (!Number.isFinite(value)) return error(state, `${input} needs a number`);
    if (spec.type === "INT" && !Number.isInteger(value)) return error(state, `${input} takes whole numbers`);
    if (spec.min !== undefined && value < spec.min) return error(state, `${input} must be at least ${spec.min}`);
    if (spec.max !== undefined && value > spec.max) return error(state, `${input} must be at most ${spec.max}`);
  }
  if (spec?.choices && spec.choices.length > 0 && !spec.choices.includes(value as string | number)) {
    return error(state, `${input} must be one of: ${spec.choices.slice(0, 8).join(", ")}${spec.choices.length > 8 ? ", …" : ""}`);
  }
  return { ...commit(state, M.setValue(graph, node, input, value)), message: null };
}

export function setTitle(state: EditorState, node: string, title: string): EditorState {
  const trimmed = title.trim();
  return commit(state, M.updateNode(graphOf(state), node, (n) => (n.title === (trimmed || null) ? n : { ...n, title: trimmed || null })));
}

export function setMode(state: EditorState, node: string, mode: number): EditorState {
  return commit(state, M.updateNode(graphOf(state), node, (n) => (n.mode === mode ? n : { ...n, mode })));
}

export function toggleCollapse(state: EditorState, node: string): EditorState {
  return commit(state, M.updateNode(graphOf(state), node, (n) => ({ ...n, collapsed: !n.collapsed })));
}

export function setPosition(state: EditorState, node: string, pos: M.Vec2): EditorState {
  return commit(state, M.updateNode(graphOf(state), node, (n) => (n.pos[0] === pos[0] && n.pos[1] === pos[1] ? n : { ...n, pos })));
}

export function setSize(state: EditorState, node: string, size: M.Vec2 | null): EditorState {
  return commit(state, M.updateNode(graphOf(state), node, (n) => ({ ...n, size })));
}

export function nudge(state: EditorState, dx: number, dy: number): EditorState {
  if (state.selection.length === 0) return info(state, "select nodes to move them");
  return commit(state, M.moveNodes(graphOf(state), state.selection, dx, dy));
}

export function selectAll(state: EditorState): EditorState {
  const graph = graphOf(state);
  return { ...state, selection: [...graph.order], selectedGroups: graph.groups.map((g) => g.id) };
}

export function select(state: EditorState, ids: readonly string[], additive = false): EditorState {
  const graph = graphOf(state);
  const valid = ids.filter((id) => id in graph.nodes);
  if (!additive) return { ...state, selection: valid, selectedGroups: [] };
  // Additive selection toggles: shift-click on a selected node takes it out.
  const current = new Set(state.selection);
  for (const id of valid) if (current.has(id)) current.delete(id); else current.add(id);
  return { ...state, selection: [...current] };
}

export function copy(state: EditorState): EditorState {
  const fragment = extractFragment(graphOf(state), state.catalog, state.selection, state.selectedGroups);
  if (!fragment) return info(state, "select nodes to copy");
  return info({ ...state, clipboard: fragment }, `copied ${fragment.nodes.length} node(s)`);
}

export function cut(state: EditorState): EditorState {
  const copied = copy(state);
  return copied.clipboard === state.clipboard ? copied : deleteNodes(copied, state.selection, state.selectedGroups);
}

export function paste(state: EditorState, at?: M.Vec2): EditorState {
  if (!state.clipboard) return info(state, "the clipboard is empty; copy nodes first");
  const where = at ?? state.pointer ?? viewCenter(state);
  const [graph, ids] = insertFragment(graphOf(state), state.clipboard, where);
  return { ...commit(state, graph), selection: ids, selectedGroups: [], message: null };
}

export function groupSelection(state: EditorState, title = "Group"): EditorState {
  const graph = graphOf(state);
  const defs = state.catalog?.nodes ?? {};
  const rects = state.selection.map((id) => nodeRect(graph, defs, id)).filter((r): r is M.Rect => r !== null);
  const around = M.boundsOf(rects, 20);
  if (!around) return info(state, "select nodes to group them");
  // Room for the group's title bar above the nodes.
  const bounds: M.Rect = [around[0], around[1] - 30, around[2], around[3] + 30];
  const [next, id] = M.addGroup(graph, title, bounds);
  return { ...commit(state, next), selectedGroups: [id], message: null };
}

export function renameGroup(state: EditorState, group: string, title: string): EditorState {
  return commit(state, M.updateGroup(graphOf(state), group, (g) => ({ ...g, title })));
}

export function fit(state: EditorState): EditorState {
  const graph = graphOf(state);
  const defs = state.catalog?.nodes ?? {};
  const pick = state.selection.length > 0 ? state.selection : graph.order;
  const rects = pick.map((id) => nodeRect(graph, defs, id)).filter((r): r is M.Rect => r !== null);
  const groups = state.selection.length > 0 ? [] : graph.groups.map((g) => g.bounds);
  return { ...state, viewport: fitView(M.boundsOf([...rects, ...groups]), state.screen[0], state.screen[1]) };
}

export function zoom(state: EditorState, factor: number): EditorState {
  return { ...state, viewport: zoomAt(state.viewport, state.screen[0] / 2, state.screen[1] / 2, factor) };
}

export function focusNode(state: EditorState, node: string): EditorState {
  const rect = nodeRect(graphOf(state), state.catalog?.nodes ?? {}, node);
  if (!rect) return state;
  const viewport = centerOn(state.viewport, rect[0] + rect[2] / 2, rect[1] + rect[3] / 2, state.screen[0], state.screen[1]);
  return { ...state, viewport, selection: [node], selectedGroups: [] };
}

export function savePreset(state: EditorState, name: string, whole: boolean): EditorState {
  const trimmed = name.trim();
  if (!trimmed) return error(state, "a preset needs a name");
  const graph = graphOf(state);
  const fragment = whole ? wholeGraphFragment(graph, state.catalog) : extractFragment(graph, state.catalog, state.selection, state.selectedGroups);
  if (!fragment) return error(state, whole ? "the workflow is empty; add nodes before saving it as a preset" : "select nodes to save them as a preset");
  const preset: Preset = { name: trimmed, fragment };
  const presets = [...state.presets.filter((p) => p.name !== trimmed), preset].sort((a, b) => a.name.localeCompare(b.name));
  return info({ ...state, presets }, `saved preset "${trimmed}" (${fragment.nodes.length} node(s))`);
}

export function insertPreset(state: EditorState, name: string, at?: M.Vec2): EditorState {
  const preset = state.presets.find((p) => p.name === name);
  if (!preset) return error(state, `no preset named "${name}"`);
  const [graph, ids] = insertFragment(graphOf(state), preset.fragment, at ?? state.pointer ?? viewCenter(state));
  return { ...commit(state, graph), selection: ids, selectedGroups: [], message: null };
}

export function deletePreset(state: EditorState, name: string): EditorState {
  return { ...state, presets: state.presets.filter((p) => p.name !== name) };
}

/** Replace the graph (an import); undo brings the previous graph back. */
export function loadGraph(state: EditorState, graph: M.Graph, warnings: readonly string[] = []): EditorState {
  const loaded = { ...commit(state, graph), selection: [], selectedGroups: [], nodeErrors: {}, message: null };
  const fitted = fit(loaded);
  return warnings.length > 0 ? { ...fitted, message: { kind: "info", text: `Imported with warnings: ${warnings.join("; ")}` } } : fitted;
}
