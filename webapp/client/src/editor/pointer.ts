// Pointer gestures on the canvas as reducers: select, drag, resize, connect, box-select, pan,
// zoom and minimap navigation. The canvas driver has already hit-tested each event. A gesture
// previews its graph on every move and records one history step when it ends.

import type { PointerInfo } from "./actions";
import * as C from "./commands";
import { centerOn, minimapMap, minimapToWorld, panBy, toWorld, zoomAt } from "./geometry";
import { nodesInGroup } from "./fragment";
import { nodeRect } from "./layout";
import * as M from "./model";
import { isCompatible } from "./types";
import { type EditorState, commitFrom, graphOf, preview } from "./state";

const idle = { kind: "idle" } as const;

function graphBounds(state: EditorState): M.Rect | null {
  const graph = graphOf(state);
  const defs = state.catalog?.nodes ?? {};
  const rects = graph.order.map((id) => nodeRect(graph, defs, id)).filter((r): r is M.Rect => r !== null);
  return M.boundsOf([...rects, ...graph.groups.map((g) => g.bounds)]);
}

function minimapWorld(state: EditorState, sx: number, sy: number): M.Vec2 {
  const map = minimapMap(graphBounds(state), state.viewport, state.screen[0], state.screen[1]);
  return minimapToWorld(map, sx, sy);
}

export function pointerDown(state: EditorState, p: PointerInfo): EditorState {
  const world = toWorld(state.viewport, p.sx, p.sy);
  const s: EditorState = { ...state, pointer: world, message: state.message?.kind === "error" ? null : state.message, palette: { ...state.palette, open: false } };
  const hit = p.hit;
  const graph = graphOf(s);
  if (p.button === 1 || (p.button === 0 && hit.kind === "none" && !p.shift && !p.ctrl)) {
    const cleared = p.button === 0 ? { ...s, selection: [], selectedGroups: [] } : s;
    return { ...cleared, interaction: { kind: "pan", last: [p.sx, p.sy] } };
  }
  if (p.button !== 0) return s;
  switch (hit.kind) {
    case "minimap":
      return { ...s, viewport: centerOn(s.viewport, hit.world[0], hit.world[1], s.screen[0], s.screen[1]), interaction: { kind: "minimap" } };
    case "none":
      return { ...s, interaction: { kind: "box", start: world, end: world, additive: p.shift } };
    case "output": {
      const type = M.outputType(graph, s.catalog, hit.node, hit.slot) ?? "*";
      return { ...s, interaction: { kind: "connect", from: hit.node, slot: hit.slot, type, cursor: world, before: graph } };
    }
    case "input": {
      const link = graph.links[M.linkKey(hit.node, hit.input)];
      if (!link) return selectAndDrag(s, hit.node, p.shift, world);
      // Grabbing a linked input lifts the wire off it, to drop it elsewhere or nowhere.
      const detached = preview(s, M.disconnect(graph, hit.node, hit.input));
      return { ...detached, interaction: { kind: "connect", from: link.from, slot: link.fromSlot, type: link.type, cursor: world, before: graph } };
    }
    case "node":
      if (hit.part === "resize") return { ...s, selection: [hit.node], selectedGroups: [], interaction: { kind: "resize", node: hit.node, before: graph } };
      return selectAndDrag(s, hit.node, p.shift, world);
    case "group": {
      if (hit.part === "resize") return { ...s, selectedGroups: [hit.group], interaction: { kind: "resizeGroup", group: hit.group, before: graph } };
      if (hit.part === "body") return { ...s, interaction: { kind: "box", start: world, end: world, additive: p.shift } };
      const group = graph.groups.find((g) => g.id === hit.group);
      if (!group) return s;
      const inside = nodesInGroup(graph, s.catalog, group);
      const selectedGroups = p.shift ? [...new Set([...s.selectedGroups, hit.group])] : [hit.group];
      return { ...s, selectedGroups, selection: p.shift ? s.selection : inside, interaction: { kind: "drag", nodes: inside, groups: [hit.group], last: world, before: graph } };
    }
  }
}

function selectAndDrag(state: EditorState, node: string, shift: boolean, world: M.Vec2): EditorState {
  const already = state.selection.includes(node);
  const selected = shift ? C.select(state, [node], true) : already ? state : C.select(state, [node]);
  if (!selected.selection.includes(node)) return { ...selected, interaction: idle };
  return { ...selected, interaction: { kind: "drag", nodes: selected.selection, groups: selected.selectedGroups, last: world, before: graphOf(state) } };
}

export function pointerMove(state: EditorState, p: PointerInfo): EditorState {
  const world = toWorld(state.viewport, p.sx, p.sy);
  const it = state.interaction;
  switch (it.kind) {
    case "idle":
      return state.pointer && state.pointer[0] === world[0] && state.pointer[1] === world[1] ? state : { ...state, pointer: world };
    case "pan":
      return { ...state, viewport: panBy(state.viewport, p.sx - it.last[0], p.sy - it.last[1]), interaction: { ...it, last: [p.sx, p.sy] } };
    case "minimap": {
      const target = minimapWorld(state, p.sx, p.sy);
      return { ...state, viewport: centerOn(state.viewport, target[0], target[1], state.screen[0], state.screen[1]) };
    }
    case "drag": {
      const dx = world[0] - it.last[0];
      const dy = world[1] - it.last[1];
      let graph = M.moveNodes(graphOf(state), it.nodes, dx, dy);
      for (const id of it.groups) {
        graph = M.updateGroup(graph, id, (g) => ({ ...g, bounds: [g.bounds[0] + dx, g.bounds[1] + dy, g.bounds[2], g.bounds[3]] }));
      }
      return { ...preview(state, graph), pointer: world, interaction: { ...it, last: world } };
    }
    case "resize": {
      const graph = M.updateNode(graphOf(state), it.node, (n) => ({ ...n, size: [Math.max(80, world[0] - n.pos[0]), Math.max(26, world[1] - n.pos[1])] }));
      return { ...preview(state, graph), pointer: world };
    }
    case "resizeGroup": {
      const graph = M.updateGroup(graphOf(state), it.group, (g) => ({ ...g, bounds: [g.bounds[0], g.bounds[1], Math.max(120, world[0] - g.bounds[0]), Math.max(60, world[1] - g.bounds[1])] }));
      return { ...preview(state, graph), pointer: world };
    }
    case "connect":
      return { ...state, pointer: world, interaction: { ...it, cursor: world } };
    case "box":
      return { ...state, pointer: world, interaction: { ...it, end: world } };
  }
}

export function pointerUp(state: EditorState, p: PointerInfo): EditorState {
  const it = state.interaction;
  const done: EditorState = { ...state, interaction: idle };
  switch (it.kind) {
    case "drag":
    case "resize":
    case "resizeGroup":
      return commitFrom(done, it.before, graphOf(state));
    case "connect":
      return dropWire(done, it.from, it.slot, it.type, it.before, p);
    case "box": {
      const [x0, y0] = it.start;
      const [x1, y1] = toWorld(state.viewport, p.sx, p.sy);
      const box: M.Rect = [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)];
      const graph = graphOf(state);
      const defs = state.catalog?.nodes ?? {};
      const inside = graph.order.filter((id) => {
        const rect = nodeRect(graph, defs, id);
        return rect !== null && M.rectsIntersect(box, rect);
      });
      const selection = it.additive ? [...new Set([...state.selection, ...inside])] : inside;
      return { ...done, selection, selectedGroups: it.additive ? state.selectedGroups : [] };
    }
    default:
      return it.kind === "idle" ? state : done;
  }
}

/** End of a wire drag: link into the input under the pointer, or the node's first fitting input. */
function dropWire(state: EditorState, from: string, slot: number, type: string, before: M.Graph, p: PointerInfo): EditorState {
  const graph = graphOf(state);
  const hit = p.hit;
  let target: { node: string; input: string } | null = null;
  if (hit.kind === "input") target = { node: hit.node, input: hit.input };
  else if (hit.kind === "node" && hit.node !== from) {
    const node = graph.nodes[hit.node];
    const def = node ? state.catalog?.nodes[node.type] : undefined;
    const fitting = (def?.inputs ?? []).filter((spec) => isCompatible(type, spec.type));
    const free = fitting.find((spec) => !(M.linkKey(hit.node, spec.name) in graph.links)) ?? fitting[0];
    if (!free) {
      const label = node ? M.nodeLabel(node, state.catalog) : hit.node;
      return { ...commitFrom(state, before, graph), message: { kind: "error", text: `Connection refused: no input of ${label} #${hit.node} takes ${type}` } };
    }
    target = { node: hit.node, input: free.name };
  }
  if (!target) return commitFrom(state, before, graph);
  const result = M.connect(graph, state.catalog, from, slot, target.node, target.input);
  if (!result.ok) return { ...commitFrom(state, before, graph), message: { kind: "error", text: `Connection refused: ${result.error}` } };
  return { ...commitFrom(state, before, result.value), message: null };
}

export function wheel(state: EditorState, sx: number, sy: number, dy: number): EditorState {
  // Pixel deltas from a mouse wheel are ~100 per notch: about 14% zoom per notch.
  const factor = Math.exp(-Math.max(-300, Math.min(300, dy)) * 0.0013);
  return { ...state, viewport: zoomAt(state.viewport, sx, sy, factor) };
}

export function doubleClick(state: EditorState, p: PointerInfo): EditorState {
  const world = toWorld(state.viewport, p.sx, p.sy);
  if (p.hit.kind === "none") return { ...state, palette: { open: true, query: "", at: world }, interaction: idle };
  if (p.hit.kind === "node" && p.hit.part === "title") return C.toggleCollapse({ ...state, interaction: idle }, p.hit.node);
  if (p.hit.kind === "node" && p.hit.part === "widget" && p.hit.input !== undefined) {
    // Edit the value in the properties panel, where the catalog's range and choices apply.
    const focusRequest = { node: p.hit.node, input: p.hit.input, seq: (state.focusRequest?.seq ?? 0) + 1 };
    return { ...state, selection: [p.hit.node], selectedGroups: [], interaction: idle, focusRequest };
  }
  return state;
}
