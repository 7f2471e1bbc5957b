// ComfyUI's API format ({id: {class_type, inputs: {name: literal | [src_id, slot]}, _meta}}) <->
// the editor graph. Reading lays nodes out in columns by dependency depth; writing the executable
// prompt drops muted nodes and routes links around bypassed ones, as the server does
// (components/workflow/comfy_editor.py apply_modes).

import type { Catalog, Json } from "../catalog";
import { findInput } from "../catalog";
import { type EdLink, type EdNode, type Graph, emptyGraph, linkKey, MODE_ALWAYS, MODE_BYPASS, MODE_MUTED, nodeLabel } from "../model";
import { isCompatible } from "../types";
import { isRecord } from "./common";

export class ApiFormatError extends Error {}


/** A value of the API format that is a link: [source id, output index]. */
export function isApiLink(value: unknown): value is [string | number, number] {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === "string" || typeof value[0] === "number") && Number.isInteger(value[1]);
}

const sortIds = (ids: string[]): string[] =>
  ids.sort((a, b) => {
    const na = /^\d+$/.test(a);
    const nb = /^\d+$/.test(b);
    if (na && nb) return Number(a) - Number(b);
    if (na !== nb) return na ? -1 : 1;
    return a.localeCompare(b);
  });

export function apiToGraph(prompt: unknown, catalog: Catalog | null): Graph {
  if (!isRecord(prompt)) throw new ApiFormatError("an API-format prompt is a JSON object of nodes by id");
  const problems: string[] = [];
  const nodes: Record<string, EdNode> = {};
  const links: Record<string, EdLink> = {};
  const ids = sortIds(Object.keys(prompt));
  for (const id of ids) {
    const raw = prompt[id];
    if (!isRecord(raw) || typeof raw.class_type !== "string") {
      problems.push(`node ${id} needs a "class_type"`);
      continue;
    }
    const values: Record<string, Json> = {};
    for (const [name, value] of Object.entries(isRecord(raw.inputs) ? raw.inputs : {})) {
      if (isApiLink(value)) {
        const from = String(value[0]);
        const fromType = catalog?.nodes[(prompt[from] as { class_type?: string } | undefined)?.class_type ?? ""]?.outputs[value[1]]?.type ?? "*";
        links[linkKey(id, name)] = { from, fromSlot: value[1], to: id, toInput: name, type: fromType };
      } else values[name] = value as Json;
    }
    const meta = isRecord(raw._meta) ? raw._meta : {};
    const def = catalog?.nodes[raw.class_type];
    const title = typeof meta.title === "string" && meta.title !== (def?.displayName ?? raw.class_type) ? meta.title : null;
    nodes[id] = { id, type: raw.class_type, pos: [0, 0], size: null, title, values, mode: MODE_ALWAYS, collapsed: false, extra: {} };
  }
  if (problems.length > 0) throw new ApiFormatError(`not an API-format prompt: ${problems.join("; ")}`);
  for (const link of Object.values(links)) {
    if (!(link.from in nodes)) throw new ApiFormatError(`node ${link.to} input "${link.toInput}" links to node ${link.from}, which the prompt does not have`);
  }
  const numeric = ids.map(Number).filter(Number.isInteger);
  const graph: Graph = { ...emptyGraph, nodes, order: ids.filter((id) => id in nodes), links, nextId: Math.max(0, ...numeric) + 1 };
  return autoLayout(graph);
}

/** Columns by dependency depth, rows in id order: an API prompt opens readable. */
export function autoLayout(graph: Graph): Graph {
  const depth = new Map<string, number>();
  const parents = new Map<string, string[]>();
  for (const link of Object.values(graph.links)) parents.set(link.to, [...(parents.get(link.to) ?? []), link.from]);
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle: lay it out, validation will report it
    visiting.add(id);
    const d = Math.max(-1, ...(parents.get(id) ?? []).filter((p) => p in graph.nodes).map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const nodes: Record<string, EdNode> = {};
  for (const id of graph.order) {
    const node = graph.nodes[id] as EdNode;
    const column = depthOf(id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    nodes[id] = { ...node, pos: [50 + 400 * column, 50 + 250 * row] };
  }
  return { ...graph, nodes };
}

/** The prompt to run: muted nodes dropped, bypassed ones routed around. */
export function graphToApi(graph: Graph, catalog: Catalog | null, executable = true): Record<string, Json> {
  const skip = (id: string): boolean => executable && (graph.nodes[id]?.mode === MODE_MUTED || graph.nodes[id]?.mode === MODE_BYPASS);
  const prompt: Record<string, Json> = {};
  for (const id of sortIds(graph.order.filter((i) => i in graph.nodes))) {
    if (skip(id)) continue;
    const node = graph.nodes[id] as EdNode;
    const def = catalog?.nodes[node.type];
    const inputs: Record<string, Json> = {};
    for (const [name, value] of Object.entries(node.values)) if (!(linkKey(id, name) in graph.links)) inputs[name] = value;
    for (const link of Object.values(graph.links)) {
      if (link.to !== id) continue;
      const wanted = (def && findInput(def, link.toInput)?.type) ?? link.type;
      const routed = executable ? route(graph, catalog, link, wanted) : link;
      if (routed) inputs[link.toInput] = [routed.from, routed.fromSlot];
    }
    prompt[id] = { class_type: node.type, inputs, _meta: { title: nodeLabel(node, catalog) } };
  }
  return prompt;
}

/** Follow a link through bypassed nodes to a real source: the first same-typed linked input. */
function route(graph: Graph, catalog: Catalog | null, link: EdLink, wanted: string): EdLink | null {
  const seen = new Set<string>();
  let current = link;
  for (;;) {
    const source = graph.nodes[current.from];
    if (!source || source.mode === MODE_MUTED) return null;
    if (source.mode !== MODE_BYPASS) return current;
    if (seen.has(source.id)) return null;
    seen.add(source.id);
    const def = catalog?.nodes[source.type];
    if (!def) return null;
    const preferred = def.inputs[current.fromSlot];
    const candidates = [...(preferred ? [preferred] : []), ...def.inputs];
    const match = candidates.find((spec) => spec.type === wanted || (isCompatible(spec.type, wanted) && spec.type !== "*" && wanted !== "*"));
    const upstream = match ? graph.links[linkKey(source.id, match.name)] : undefined;
    if (!upstream) return null;
    current = upstream;
  }
}
