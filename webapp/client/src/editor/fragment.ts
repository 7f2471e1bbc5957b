// Fragments: a set of nodes with the links among them and the groups around them, positioned
// relative to their top-left corner. Copy/paste and presets both use them.

import type { Catalog } from "./catalog";
import { nodeRect } from "./layout";
import { type EdGroup, type EdLink, type EdNode, type Graph, type Rect, type Vec2, allocateId, boundsOf, linkKey, putNode, rectContains } from "./model";
import type { Fragment } from "./state";

/** The nodes `ids` of `graph`, their inner links, and the groups that hold only them. */
export function extractFragment(graph: Graph, catalog: Catalog | null, ids: readonly string[], groupIds: readonly string[] = []): Fragment | null {
  const chosen = ids.filter((id) => id in graph.nodes);
  const defs = catalog?.nodes ?? {};
  const rects = chosen.map((id) => nodeRect(graph, defs, id)).filter((r): r is Rect => r !== null);
  const picked = new Set(groupIds);
  const groups = graph.groups.filter((g) => picked.has(g.id));
  const bounds = boundsOf([...rects, ...groups.map((g) => g.bounds)]);
  if (!bounds) return null;
  const [ox, oy] = bounds;
  const set = new Set(chosen);
  const nodes: EdNode[] = chosen.map((id) => {
    const node = graph.nodes[id] as EdNode;
    return { ...node, pos: [node.pos[0] - ox, node.pos[1] - oy] };
  });
  const links: EdLink[] = Object.values(graph.links).filter((l) => set.has(l.from) && set.has(l.to));
  const shifted: EdGroup[] = groups.map((g) => ({ ...g, bounds: [g.bounds[0] - ox, g.bounds[1] - oy, g.bounds[2], g.bounds[3]] }));
  return { nodes, links, groups: shifted };
}

/** The whole graph as a fragment (for a "whole workflow" preset). */
export function wholeGraphFragment(graph: Graph, catalog: Catalog | null): Fragment | null {
  return extractFragment(graph, catalog, graph.order, graph.groups.map((g) => g.id));
}

/** Insert `fragment` with its top-left at `at`, under fresh ids; returns the new node ids. */
export function insertFragment(graph: Graph, fragment: Fragment, at: Vec2): [Graph, string[]] {
  let next = graph;
  const ids = new Map<string, string>();
  for (const node of fragment.nodes) {
    const [allocated, id] = allocateId(next);
    ids.set(node.id, id);
    next = putNode(allocated, { ...node, id, pos: [node.pos[0] + at[0], node.pos[1] + at[1]] });
  }
  const links = { ...next.links };
  for (const link of fragment.links) {
    const from = ids.get(link.from);
    const to = ids.get(link.to);
    if (from && to) links[linkKey(to, link.toInput)] = { ...link, from, to };
  }
  const used = new Set(next.groups.map((g) => g.id));
  let n = next.groups.length + 1;
  const groups = [...next.groups];
  for (const group of fragment.groups) {
    while (used.has(`g${n}`)) n += 1;
    used.add(`g${n}`);
    groups.push({ ...group, id: `g${n}`, bounds: [group.bounds[0] + at[0], group.bounds[1] + at[1], group.bounds[2], group.bounds[3]] });
  }
  return [{ ...next, links, groups }, [...ids.values()]];
}

/** The nodes whose whole rectangle lies inside `group`: what moves with a dragged group. */
export function nodesInGroup(graph: Graph, catalog: Catalog | null, group: EdGroup): string[] {
  const defs = catalog?.nodes ?? {};
  return graph.order.filter((id) => {
    const rect = nodeRect(graph, defs, id);
    return rect !== null && rectContains(group.bounds, rect);
  });
}
