// The scene: everything the canvas driver draws, in world coordinates, computed from the editor
// state once per change (not per frame). Links and sockets are pre-sorted into runs of one colour
// in flat typed arrays, so the driver strokes each colour once and allocates nothing per frame.

import { type Catalog, typeColor } from "./catalog";
import { linkedInputs, nodeLayout } from "./layout";
import { type EdGroup, type Graph, type Rect, boundsOf, linkKey, MODE_BYPASS, MODE_MUTED, nodeLabel, outputType } from "./model";
import { type EditorState, graphOf, type NodeErrors, type RunState } from "./state";

export type NodeStatus = "idle" | "running" | "ran" | "cached" | "failed";

export interface SceneSocket {
  readonly name: string;
  readonly slot: number;
  readonly x: number;
  readonly y: number;
  readonly linked: boolean;
  readonly error: boolean;
  /** An input shown as a widget row (the row carries its name). */
  readonly widget: boolean;
  readonly color: string;
}

export interface SceneRow {
  readonly input: string;
  readonly y: number;
  readonly text: string;
  readonly error: boolean;
}

export interface SceneNode {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly title: string;
  readonly collapsed: boolean;
  readonly selected: boolean;
  /** 0 always, 2 muted, 4 bypassed. */
  readonly mode: number;
  readonly status: NodeStatus;
  /** 0..1 while the node reports progress, else -1. */
  readonly progress: number;
  /** The server's messages about this node, joined; empty when it has none. */
  readonly error: string;
  readonly color: string | null;
  readonly inputs: readonly SceneSocket[];
  readonly outputs: readonly SceneSocket[];
  readonly rows: readonly SceneRow[];
}

export interface SceneGroup {
  readonly id: string;
  readonly title: string;
  readonly bounds: Rect;
  readonly color: string | null;
  readonly selected: boolean;
}

/** A run of same-coloured items: [start, end) indices into the matching coordinate array. */
export interface ColorRun {
  readonly color: string;
  readonly start: number;
  readonly end: number;
}

export interface Scene {
  readonly nodes: readonly SceneNode[];
  readonly groups: readonly SceneGroup[];
  /** x1, y1, x2, y2 per link, in colour-run order. */
  readonly links: Float64Array;
  readonly linkRuns: readonly ColorRun[];
  /** x, y per socket, in colour-run order. */
  readonly sockets: Float64Array;
  readonly socketRuns: readonly ColorRun[];
  readonly bounds: Rect | null;
}

export const emptyScene: Scene = { nodes: [], groups: [], links: new Float64Array(0), linkRuns: [], sockets: new Float64Array(0), socketRuns: [], bounds: null };

function nodeStatus(run: RunState, id: string): NodeStatus {
  if (run.failed[id] !== undefined) return "failed";
  if (run.current === id && (run.status === "running" || run.status === "queued")) return "running";
  if (run.cached.includes(id)) return "cached";
  if (run.ran.includes(id)) return "ran";
  return "idle";
}

export function valueText(value: unknown): string {
  const text = typeof value === "string" ? value.replace(/\s+/g, " ") : JSON.stringify(value) ?? "";
  return text.length > 28 ? `${text.slice(0, 27)}…` : text;
}

export function buildScene(
  graph: Graph,
  catalog: Catalog | null,
  selection: readonly string[],
  selectedGroups: readonly string[],
  run: RunState,
  errors: NodeErrors,
): Scene {
  const selected = new Set(selection);
  const defs = catalog?.nodes ?? {};
  const nodes: SceneNode[] = [];
  const byId = new Map<string, SceneNode>();
  const sockets: { x: number; y: number; color: string }[] = [];
  for (const id of graph.order) {
    const node = graph.nodes[id];
    if (!node) continue;
    const def = defs[node.type];
    const layout = nodeLayout(node, def, def ? [] : linkedInputs(graph, id));
    const [x, y] = node.pos;
    const nodeErrors = errors[id];
    const inputs: SceneSocket[] = layout.inputs.map((s) => {
      const linked = linkKey(id, s.name) in graph.links;
      const color = typeColor(catalog, s.type);
      sockets.push({ x, y: y + s.dy, color });
      return { name: s.name, slot: -1, x, y: y + s.dy, linked, error: (nodeErrors?.inputs[s.name]?.length ?? 0) > 0, widget: s.widget && !node.collapsed, color };
    });
    const outputs: SceneSocket[] = layout.outputs.map((o) => {
      const color = typeColor(catalog, o.type);
      sockets.push({ x: x + layout.w, y: y + o.dy, color });
      return { name: o.name, slot: o.slot, x: x + layout.w, y: y + o.dy, linked: false, error: false, widget: false, color };
    });
    const rows: SceneRow[] = layout.rows.map((r) => {
      const linked = linkKey(id, r.input) in graph.links;
      return {
        input: r.input,
        y: y + r.dy,
        text: `${r.input}: ${linked ? "← linked" : valueText(node.values[r.input])}`,
        error: (nodeErrors?.inputs[r.input]?.length ?? 0) > 0,
      };
    });
    const progress = run.progress[id];
    const messages = nodeErrors ? [...nodeErrors.node, ...Object.entries(nodeErrors.inputs).flatMap(([n, m]) => m.map((t) => `${n}: ${t}`))] : [];
    const failure = run.failed[id];
    if (failure) messages.push(failure);
    const sceneNode: SceneNode = {
      id,
      x,
      y,
      w: layout.w,
      h: layout.h,
      title: nodeLabel(node, catalog) + (node.mode === MODE_MUTED ? " (muted)" : node.mode === MODE_BYPASS ? " (bypassed)" : ""),
      collapsed: node.collapsed,
      selected: selected.has(id),
      mode: node.mode,
      status: nodeStatus(run, id),
      progress: progress && progress[1] > 0 ? Math.min(1, progress[0] / progress[1]) : -1,
      error: messages.join("; "),
      color: typeof node.extra.color === "string" ? node.extra.color : null,
      inputs,
      outputs,
      rows,
    };
    nodes.push(sceneNode);
    byId.set(id, sceneNode);
  }
  const links = Object.values(graph.links)
    .map((link) => {
      const from = byId.get(link.from);
      const to = byId.get(link.to);
      const out = from?.outputs[link.fromSlot];
      const into = to?.inputs.find((s) => s.name === link.toInput);
      // The catalog's type of the output, when known: a graph read before the catalog arrived has "*".
      const type = outputType(graph, catalog, link.from, link.fromSlot) ?? link.type;
      return out && into ? { color: typeColor(catalog, type), x1: out.x, y1: out.y, x2: into.x, y2: into.y } : null;
    })
    .filter((l): l is NonNullable<typeof l> => l !== null)
    .sort((a, b) => (a.color < b.color ? -1 : a.color > b.color ? 1 : 0));
  const linkArray = new Float64Array(links.length * 4);
  links.forEach((l, i) => linkArray.set([l.x1, l.y1, l.x2, l.y2], i * 4));
  sockets.sort((a, b) => (a.color < b.color ? -1 : a.color > b.color ? 1 : 0));
  const socketArray = new Float64Array(sockets.length * 2);
  sockets.forEach((s, i) => socketArray.set([s.x, s.y], i * 2));
  const groupsSelected = new Set(selectedGroups);
  const groups = graph.groups.map((g: EdGroup) => ({ id: g.id, title: g.title, bounds: g.bounds, color: g.color, selected: groupsSelected.has(g.id) }));
  return {
    nodes,
    groups,
    links: linkArray,
    linkRuns: runsOf(links.map((l) => l.color)),
    sockets: socketArray,
    socketRuns: runsOf(sockets.map((s) => s.color)),
    bounds: boundsOf([...nodes.map((n): Rect => [n.x, n.y, n.w, n.h]), ...groups.map((g) => g.bounds)]),
  };
}

function runsOf(colors: readonly string[]): ColorRun[] {
  const runs: ColorRun[] = [];
  let start = 0;
  for (let i = 1; i <= colors.length; i += 1) {
    if (i === colors.length || colors[i] !== colors[start]) {
      runs.push({ color: colors[start] as string, start, end: i });
      start = i;
    }
  }
  return runs;
}

/** What is drawn over the scene during a gesture: the wire being dragged, the selection box. */
export interface Overlay {
  readonly wire: { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly color: string } | null;
  readonly box: Rect | null;
}

export function overlayOf(state: EditorState, scene: Scene): Overlay {
  const it = state.interaction;
  if (it.kind === "connect") {
    const node = scene.nodes.find((n) => n.id === it.from);
    const out = node?.outputs[it.slot];
    if (!out) return { wire: null, box: null };
    return { wire: { x1: out.x, y1: out.y, x2: it.cursor[0], y2: it.cursor[1], color: typeColor(state.catalog, it.type) }, box: null };
  }
  if (it.kind === "box") {
    const x = Math.min(it.start[0], it.end[0]);
    const y = Math.min(it.start[1], it.end[1]);
    return { wire: null, box: [x, y, Math.abs(it.end[0] - it.start[0]), Math.abs(it.end[1] - it.start[1])] };
  }
  return { wire: null, box: null };
}

/** A memoised `buildScene` for a state stream: rebuilt only when one of its inputs changed. */
export function sceneMemo(): (state: EditorState) => Scene {
  let last: EditorState | null = null;
  let scene = emptyScene;
  return (state) => {
    if (
      last === null ||
      graphOf(last) !== graphOf(state) ||
      last.catalog !== state.catalog ||
      last.selection !== state.selection ||
      last.selectedGroups !== state.selectedGroups ||
      last.run !== state.run ||
      last.nodeErrors !== state.nodeErrors
    ) {
      scene = buildScene(graphOf(state), state.catalog, state.selection, state.selectedGroups, state.run, state.nodeErrors);
    }
    last = state;
    return scene;
  };
}
