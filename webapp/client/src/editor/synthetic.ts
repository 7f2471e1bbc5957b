// A synthetic graph for the editor benchmark (bench/client_perf.py): `nodes` nodes of types
// from the catalog in a grid, and `links` type-correct links from left columns to right ones.
// Deterministic (a fixed-seed generator), so that every run draws the same scene.

import type { Catalog } from "./catalog";
import { type EdLink, type EdNode, type Graph, emptyGraph, linkKey, newNode } from "./model";
import { isCompatible } from "./types";

function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function syntheticGraph(catalog: Catalog, nodes = 500, links = 700, seed = 7): Graph {
  const types = catalog.order.filter((name) => (catalog.nodes[name]?.inputs.length ?? 0) + (catalog.nodes[name]?.outputs.length ?? 0) > 0);
  if (types.length === 0) throw new Error("the catalog has no node types with inputs or outputs to build a benchmark graph from");
  const random = generator(seed);
  const columns = Math.ceil(Math.sqrt(nodes * 1.5));
  const all: Record<string, EdNode> = {};
  const order: string[] = [];
  for (let i = 0; i < nodes; i += 1) {
    const id = String(i + 1);
    const type = types[Math.floor(random() * types.length)] as string;
    all[id] = newNode(catalog, id, type, [(i % columns) * 360, Math.floor(i / columns) * 420]);
    order.push(id);
  }
  const edges: Record<string, EdLink> = {};
  let made = 0;
  for (let attempt = 0; attempt < links * 50 && made < links; attempt += 1) {
    const to = Math.floor(random() * nodes);
    const column = to % columns;
    if (column === 0) continue;
    // Sources sit in a column to the left: links point rightwards and can never form a cycle.
    const from = Math.floor(to / columns) * columns + Math.floor(random() * column);
    const source = all[String(from + 1)];
    const target = all[String(to + 1)];
    const out = source ? catalog.nodes[source.type]?.outputs : undefined;
    const ins = target ? catalog.nodes[target.type]?.inputs : undefined;
    if (!source || !target || !out || !ins || out.length === 0) continue;
    const slot = Math.floor(random() * out.length);
    const type = out[slot]?.type ?? "*";
    const input = ins.find((spec) => isCompatible(type, spec.type) && !(linkKey(target.id, spec.name) in edges));
    if (!input) continue;
    edges[linkKey(target.id, input.name)] = { from: source.id, fromSlot: slot, to: target.id, toInput: input.name, type };
    made += 1;
  }
  return { ...emptyGraph, nodes: all, order, links: edges, nextId: nodes + 1 };
}
