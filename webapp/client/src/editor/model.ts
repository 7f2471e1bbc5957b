// The editor's graph: nodes with layout and literal values, links keyed by their target input,
// groups, and the notes kept for round trips. Every function here is pure: it returns a new graph
// and shares what did not change, so that undo history and memoised drawing stay cheap.

import { type Catalog, type Json, effectiveDefault, findInput } from "./catalog";
import { isCompatible } from "./types";

export type Vec2 = readonly [number, number];
export type Rect = readonly [number, number, number, number]; // x, y, w, h

export const MODE_ALWAYS = 0;
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

export interface EdNode {
  readonly id: string;
  readonly type: string;
  readonly pos: Vec2;
  /** Set when the user resized the node; else it takes the size its rows need. */
  readonly size: Vec2 | null;
  readonly title: string | null;
  /** Literal input values by input name; an input with a link ignores its value. */
  readonly values: Readonly<Record<string, Json>>;
  readonly mode: number;
  readonly collapsed: boolean;
  /** Editor fields the editor does not interpret but must keep (colours, widget controls...). */
  readonly extra: Readonly<Record<string, Json>>;
}

export interface EdLink {
  readonly from: string;
  readonly fromSlot: number;
  readonly to: string;
  readonly toInput: string;
  /** The output's type when the link was made; colours the wire. */
  readonly type: string;
}

export interface EdGroup {
  readonly id: string;
  readonly title: string;
  readonly bounds: Rect;
  readonly color: string | null;
  readonly extra: Readonly<Record<string, Json>>;
}

export interface Graph {
  readonly nodes: Readonly<Record<string, EdNode>>;
  /** Drawing order, last on top; also the order of the outline view. */
  readonly order: readonly string[];
  /** Links by `linkKey(to, input)`: an input takes at most one link. */
  readonly links: Readonly<Record<string, EdLink>>;
  readonly groups: readonly EdGroup[];
  readonly notes: readonly Json[];
  readonly metadata: Readonly<Record<string, Json>>;
  readonly nextId: number;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export const emptyGraph: Graph = { nodes: {}, order: [], links: {}, groups: [], notes: [], metadata: {}, nextId: 1 };

export const linkKey = (to: string, input: string): string => `${to}\u0000${input}`;

export function nodeLabel(node: EdNode, catalog: Catalog | null): string {
  return node.title ?? catalog?.nodes[node.type]?.displayName ?? node.type;
}

/** The next free numeric id: ComfyUI tools expect numeric node ids. */
export function allocateId(graph: Graph): [Graph, string] {
  let next = graph.nextId;
  while (graph.nodes[String(next)]) next += 1;
  return [{ ...graph, nextId: next + 1 }, String(next)];
}

export function newNode(catalog: Catalog | null, id: string, type: string, pos: Vec2): EdNode {
  const values: Record<string, Json> = {};
  for (const spec of catalog?.nodes[type]?.inputs ?? []) {
    const value = spec.widget ? effectiveDefault(spec) : undefined;
    if (value !== undefined) values[spec.name] = value;
  }
  return { id, type, pos, size: null, title: null, values, mode: MODE_ALWAYS, collapsed: false, extra: {} };
}

export function addNode(graph: Graph, catalog: Catalog | null, type: string, pos: Vec2): [Graph, string] {
  const [next, id] = allocateId(graph);
  return [putNode(next, newNode(catalog, id, type, pos)), id];
}

/** Add or replace a node; a new node goes on top. */
export function putNode(graph: Graph, node: EdNode): Graph {
  const exists = node.id in graph.nodes;
  const numeric = Number(node.id);
  return {
    ...graph,
    nodes: { ...graph.nodes, [node.id]: node },
    order: exists ? graph.order : [...graph.order, node.id],
    nextId: Number.isInteger(numeric) && numeric >= graph.nextId ? numeric + 1 : graph.nextId,
  };
}

export function updateNode(graph: Graph, id: string, change: (node: EdNode) => EdNode): Graph {
  const node = graph.nodes[id];
  if (!node) return graph;
  const changed = change(node);
  return changed === node ? graph : { ...graph, nodes: { ...graph.nodes, [id]: changed } };
}

export function removeNodes(graph: Graph, ids: Iterable<string>): Graph {
  const gone = new Set([...ids].filter((id) => id in graph.nodes));
  if (gone.size === 0) return graph;
  const nodes: Record<string, EdNode> = {};
  for (const [id, node] of Object.entries(graph.nodes)) if (!gone.has(id)) nodes[id] = node;
  const links: Record<string, EdLink> = {};
  for (const [key, link] of Object.entries(graph.links)) {
    if (!gone.has(link.from) && !gone.has(link.to)) links[key] = link;
  }
  return { ...graph, nodes, links, order: graph.order.filter((id) => !gone.has(id)) };
}

export function moveNodes(graph: Graph, ids: Iterable<string>, dx: number, dy: number): Graph {
  if (dx === 0 && dy === 0) return graph;
  const nodes = { ...graph.nodes };
  let moved = false;
  for (const id of ids) {
    const node = nodes[id];
    if (!node) continue;
    nodes[id] = { ...node, pos: [node.pos[0] + dx, node.pos[1] + dy] };
    moved = true;
  }
  return moved ? { ...graph, nodes } : graph;
}

export function setValue(graph: Graph, id: string, input: string, value: Json): Graph {
  return updateNode(graph, id, (node) =>
    node.values[input] === value ? node : { ...node, values: { ...node.values, [input]: value } },
  );
}

export function bringToFront(graph: Graph, ids: readonly string[]): Graph {
  const top = new Set(ids.filter((id) => id in graph.nodes));
  if (top.size === 0) return graph;
  const last = graph.order.slice(-top.size);
  if (last.every((id) => top.has(id))) return graph;
  return { ...graph, order: [...graph.order.filter((id) => !top.has(id)), ...graph.order.filter((id) => top.has(id))] };
}

/** The type of output `slot` of a node, from the catalog (null when unknown). */
export function outputType(graph: Graph, catalog: Catalog | null, nodeId: string, slot: number): string | null {
  const node = graph.nodes[nodeId];
  if (!node) return null;
  return catalog?.nodes[node.type]?.outputs[slot]?.type ?? null;
}

/** Why linking output `slot` of `from` into `input` of `to` is not allowed, or null if it is. */
export function connectionProblem(
  graph: Graph,
  catalog: Catalog | null,
  from: string,
  slot: number,
  to: string,
  input: string,
): string | null {
  const source = graph.nodes[from];
  const target = graph.nodes[to];
  if (!source || !target) return "both ends of a link must be nodes of this graph";
  const sourceLabel = `${nodeLabel(source, catalog)} #${from}`;
  const targetLabel = `${nodeLabel(target, catalog)} #${to}`;
  if (from === to) return `${targetLabel} cannot feed itself`;
  const sourceDef = catalog?.nodes[source.type];
  const targetDef = catalog?.nodes[target.type];
  if (!sourceDef) return `${sourceLabel} has a node type (${source.type}) the catalog does not know`;
  if (!targetDef) return `${targetLabel} has a node type (${target.type}) the catalog does not know`;
  const out = sourceDef.outputs[slot];
  if (!out) return `${sourceLabel} has no output ${slot}`;
  const spec = findInput(targetDef, input);
  if (!spec) return `${targetLabel} has no input "${input}"`;
  if (!isCompatible(out.type, spec.type)) {
    return `${targetLabel} input "${input}" takes ${spec.type}, but output "${out.name}" of ${sourceLabel} gives ${out.type}`;
  }
  if (reaches(graph, to, from)) {
    return `linking ${sourceLabel} into ${targetLabel} would make a cycle: ${targetLabel} already feeds ${sourceLabel}`;
  }
  return null;
}

/** Link output `slot` of `from` into `input` of `to`, replacing that input's link; or why not. */
export function connect(
  graph: Graph,
  catalog: Catalog | null,
  from: string,
  slot: number,
  to: string,
  input: string,
): Result<Graph> {
  const problem = connectionProblem(graph, catalog, from, slot, to, input);
  if (problem !== null) return { ok: false, error: problem };
  const type = outputType(graph, catalog, from, slot) ?? "*";
  const link: EdLink = { from, fromSlot: slot, to, toInput: input, type };
  return { ok: true, value: { ...graph, links: { ...graph.links, [linkKey(to, input)]: link } } };
}

export function disconnect(graph: Graph, to: string, input: string): Graph {
  const key = linkKey(to, input);
  if (!(key in graph.links)) return graph;
  const links = { ...graph.links };
  delete links[key];
  return { ...graph, links };
}

/** Whether `target` is downstream of (or is) `start`. */
export function reaches(graph: Graph, start: string, target: string): boolean {
  const next = new Map<string, string[]>();
  for (const link of Object.values(graph.links)) {
    const list = next.get(link.from);
    if (list) list.push(link.to);
    else next.set(link.from, [link.to]);
  }
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const to of next.get(id) ?? []) stack.push(to);
  }
  return false;
}

export function linksOf(graph: Graph, ids: ReadonlySet<string>): EdLink[] {
  return Object.values(graph.links).filter((link) => ids.has(link.from) || ids.has(link.to));
}

// --- groups ----------------------------------------------------------------------------------

export function addGroup(graph: Graph, title: string, bounds: Rect, color: string | null = null): [Graph, string] {
  let n = graph.groups.length + 1;
  while (graph.groups.some((g) => g.id === `g${n}`)) n += 1;
  const group: EdGroup = { id: `g${n}`, title, bounds, color, extra: {} };
  return [{ ...graph, groups: [...graph.groups, group] }, group.id];
}

export function updateGroup(graph: Graph, id: string, change: (group: EdGroup) => EdGroup): Graph {
  const index = graph.groups.findIndex((g) => g.id === id);
  const group = graph.groups[index];
  if (!group) return graph;
  const groups = [...graph.groups];
  groups[index] = change(group);
  return { ...graph, groups };
}

export function removeGroups(graph: Graph, ids: ReadonlySet<string>): Graph {
  const groups = graph.groups.filter((g) => !ids.has(g.id));
  return groups.length === graph.groups.length ? graph : { ...graph, groups };
}

export function rectContains(outer: Rect, inner: Rect): boolean {
  return inner[0] >= outer[0] && inner[1] >= outer[1] && inner[0] + inner[2] <= outer[0] + outer[2] && inner[1] + inner[3] <= outer[1] + outer[3];
}

export function rectsIntersect(a: Rect, b: Rect): boolean {
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

/** The rectangle around `rects`, grown by `pad`; null for none. */
export function boundsOf(rects: Iterable<Rect>, pad = 0): Rect | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r[0]);
    y0 = Math.min(y0, r[1]);
    x1 = Math.max(x1, r[0] + r[2]);
    y1 = Math.max(y1, r[1] + r[3]);
  }
  if (x0 === Infinity) return null;
  return [x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad];
}
