// rxgen's own workflow document (components/workflow/document.py): the API graph with every node
// (muted and bypassed ones too) plus per-node layout, notes, groups and free metadata.

import type { Catalog, Json } from "../catalog";
import { type EdGroup, type EdNode, type Graph, linkKey, MODE_ALWAYS } from "../model";
import { apiToGraph, graphToApi } from "./comfyApi";
import { documentNote, isRecord, pair } from "./common";

export const DOCUMENT_FORMAT = "rxgen.workflow";

// Layout keys of the document's NodeLayout that the editor keeps in a node's `extra`.
const EXTRA_LAYOUT_KEYS = ["color", "bgcolor", "widget_controls", "properties", "raw_widgets_values"] as const;

export function graphToDocument(graph: Graph, catalog: Catalog | null): Record<string, Json> {
  const api = graphToApi(graph, catalog, false);
  const layout: Record<string, Json> = {};
  for (const id of graph.order) {
    const node = graph.nodes[id];
    if (!node) continue;
    const entry: Record<string, Json> = { pos: [node.pos[0], node.pos[1]] };
    if (node.size) entry.size = [node.size[0], node.size[1]];
    if (node.title !== null) entry.title = node.title;
    if (node.collapsed) entry.collapsed = true;
    if (node.mode !== MODE_ALWAYS) entry.mode = node.mode;
    for (const key of EXTRA_LAYOUT_KEYS) if (node.extra[key] !== undefined) entry[key] = node.extra[key] as Json;
    layout[id] = entry;
  }
  const notes: Json[] = graph.notes.map(documentNote);
  const groups: Json[] = graph.groups.map((g) => ({ ...g.extra, title: g.title, bounding: [...g.bounds], ...(g.color ? { color: g.color } : {}) }));
  return { format: DOCUMENT_FORMAT, format_version: 1, graph: api, layout, notes, groups, metadata: { ...graph.metadata } };
}

export function documentToGraph(doc: unknown, catalog: Catalog | null): Graph {
  if (!isRecord(doc) || doc.format !== DOCUMENT_FORMAT) throw new Error(`not an rxgen document: expected "format": "${DOCUMENT_FORMAT}"`);
  const base = apiToGraph(isRecord(doc.graph) ? doc.graph : {}, catalog);
  const layout = isRecord(doc.layout) ? doc.layout : {};
  const nodes: Record<string, EdNode> = {};
  for (const id of base.order) {
    const node = base.nodes[id] as EdNode;
    const lay = isRecord(layout[id]) ? (layout[id] as Record<string, unknown>) : null;
    if (!lay) {
      nodes[id] = node;
      continue;
    }
    const extra: Record<string, Json> = {};
    for (const key of EXTRA_LAYOUT_KEYS) {
      const value = lay[key];
      const empty = value === undefined || value === null || (isRecord(value) && Object.keys(value).length === 0);
      if (!empty) extra[key] = value as Json;
    }
    nodes[id] = {
      ...node,
      pos: pair(lay.pos) ?? node.pos,
      size: pair(lay.size),
      title: typeof lay.title === "string" ? lay.title : node.title,
      collapsed: lay.collapsed === true,
      mode: typeof lay.mode === "number" ? lay.mode : MODE_ALWAYS,
      extra,
    };
  }
  const groups: EdGroup[] = (Array.isArray(doc.groups) ? doc.groups.filter(isRecord) : []).map((g, i) => {
    const { title, bounding, color, ...rest } = g;
    const b = Array.isArray(bounding) ? bounding.map(Number) : [0, 0, 0, 0];
    return { id: `g${i + 1}`, title: typeof title === "string" ? title : "", bounds: [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0], color: typeof color === "string" ? color : null, extra: rest as Record<string, Json> };
  });
  const metadata = isRecord(doc.metadata) ? (doc.metadata as Record<string, Json>) : {};
  return { ...base, nodes, groups, notes: Array.isArray(doc.notes) ? (doc.notes as Json[]) : [], metadata };
}

/** Every link of the graph still has both ends (a sanity check used by the importers' tests). */
export function danglingLinks(graph: Graph): string[] {
  return Object.entries(graph.links)
    .filter(([key, l]) => !(l.from in graph.nodes) || !(l.to in graph.nodes) || key !== linkKey(l.to, l.toInput))
    .map(([key]) => key);
}
