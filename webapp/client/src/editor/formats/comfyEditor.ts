// ComfyUI's editor ("workflow") format <-> the editor graph. Reading follows the server's
// components/workflow/comfy_editor_read.py: every real node is kept with its mode and layout,
// Reroute nodes pass their link on, PrimitiveNode values become literals, notes are kept aside.
// Writing produces schema 0.4, as components/workflow/comfy_editor_write.py does.

import type { Catalog, Json } from "../catalog";
import { type EdGroup, type EdNode, type Graph, linkKey, MODE_ALWAYS } from "../model";
import { editorNote, isRecord, pair } from "./common";
import { readWidgetValues, writeWidgetValues } from "./widgets";

export class EditorFormatError extends Error {}

const REROUTE = "Reroute";
const PRIMITIVE = "PrimitiveNode";
const NOTE_TYPES: ReadonlySet<string> = new Set(["Note", "MarkdownNote"]);

type Raw = Record<string, unknown>;
interface LinkRecord {
  from: string;
  fromSlot: number;
  to: string;
  toSlot: number;
}


function readLinks(raw: unknown, problems: string[]): Map<number, LinkRecord> {
  const links = new Map<number, LinkRecord>();
  if (!Array.isArray(raw)) {
    problems.push("'links' must be a list");
    return links;
  }
  raw.forEach((entry: unknown, index) => {
    let id: number;
    let record: LinkRecord;
    if (isRecord(entry)) {
      id = Number(entry.id);
      record = { from: String(entry.origin_id), fromSlot: Number(entry.origin_slot), to: String(entry.target_id), toSlot: Number(entry.target_slot) };
    } else if (Array.isArray(entry) && entry.length >= 5) {
      id = Number(entry[0]);
      record = { from: String(entry[1]), fromSlot: Number(entry[2]), to: String(entry[3]), toSlot: Number(entry[4]) };
    } else {
      problems.push(`links[${index}] is not a link: ${JSON.stringify(entry)}`);
      return;
    }
    if (!Number.isInteger(id) || !Number.isInteger(record.fromSlot)) problems.push(`links[${index}] is not a link: ${JSON.stringify(entry)}`);
    else links.set(id, record);
  });
  return links;
}

type Source = { kind: "link"; from: string; slot: number } | { kind: "literal"; value: Json } | null;

/** An editor workflow as an editor graph, with warnings about whatever could not be kept. */
export function editorToGraph(workflow: unknown, catalog: Catalog | null): { graph: Graph; warnings: string[] } {
  if (!isRecord(workflow) || !Array.isArray(workflow.nodes)) throw new EditorFormatError("not a ComfyUI editor workflow: expected an object with a 'nodes' list");
  const problems: string[] = [];
  const warnings: string[] = [];
  const links = readLinks(workflow.links ?? [], problems);
  const raws = new Map<string, Raw>();
  workflow.nodes.forEach((raw: unknown, index) => {
    if (!isRecord(raw) || raw.id === undefined || typeof raw.type !== "string") problems.push(`nodes[${index}] needs an 'id' and a 'type'`);
    else raws.set(String(raw.id), raw);
  });
  if (problems.length > 0) throw new EditorFormatError(`not a ComfyUI editor workflow: ${problems.join("; ")}`);

  const resolve = (linkId: unknown, where: string): Source => {
    const seen = new Set<number>();
    let id = linkId;
    for (;;) {
      if (typeof id !== "number" || seen.has(id)) {
        warnings.push(`${where}: link ${JSON.stringify(id)} is malformed; input left out`);
        return null;
      }
      seen.add(id);
      const record = links.get(id);
      if (!record) {
        warnings.push(`${where}: link ${id} is not in the links table`);
        return null;
      }
      const source = raws.get(record.from);
      if (!source) {
        warnings.push(`${where}: link ${id} comes from missing node`);
        return null;
      }
      if (source.type === REROUTE) {
        const upstream = Array.isArray(source.inputs) ? source.inputs.filter(isRecord) : [];
        id = upstream[0]?.link;
        if (id === undefined || id === null) {
          warnings.push(`${where}: reroute ${record.from} is not connected`);
          return null;
        }
        continue;
      }
      if (source.type === PRIMITIVE) {
        const values = source.widgets_values;
        if (Array.isArray(values) && values.length > 0) return { kind: "literal", value: values[0] as Json };
        warnings.push(`${where}: primitive ${record.from} has no value`);
        return null;
      }
      return { kind: "link", from: record.from, slot: record.fromSlot };
    }
  };

  const nodes: Record<string, EdNode> = {};
  const order: string[] = [];
  const edLinks: Record<string, Graph["links"][string]> = {};
  const notes: Json[] = [];
  for (const [id, raw] of raws) {
    const type = raw.type as string;
    if (NOTE_TYPES.has(type)) {
      notes.push(raw as Json);
      continue;
    }
    if (type === REROUTE || type === PRIMITIVE) continue;
    const def = catalog?.nodes[type];
    const where = `node ${id} (${type})`;
    const values: Record<string, Json> = {};
    for (const entry of Array.isArray(raw.inputs) ? raw.inputs.filter(isRecord) : []) {
      const widget = isRecord(entry.widget) && typeof entry.widget.name === "string" ? entry.widget.name : null;
      const name = widget ?? (typeof entry.name === "string" ? entry.name : null);
      if (name === null || entry.link === undefined || entry.link === null) continue;
      const source = resolve(entry.link, `${where} input "${name}"`);
      if (source?.kind === "literal") values[name] = source.value;
      else if (source?.kind === "link") {
        const sourceRaw = raws.get(source.from);
        const sourceDef = sourceRaw ? catalog?.nodes[sourceRaw.type as string] : undefined;
        const type = sourceDef?.outputs[source.slot]?.type ?? "*";
        edLinks[linkKey(id, name)] = { from: source.from, fromSlot: source.slot, to: id, toInput: name, type };
      }
    }
    const extra: Record<string, Json> = {};
    if (def) {
      const read = readWidgetValues(where, def, raw.widgets_values, warnings);
      for (const [name, value] of Object.entries(read.values)) if (!(name in values) && !(linkKey(id, name) in edLinks)) values[name] = value;
      if (Object.keys(read.controls).length > 0) extra.widget_controls = read.controls;
    } else if (raw.widgets_values !== undefined) {
      extra.raw_widgets_values = raw.widgets_values as Json;
      warnings.push(`${where}: the catalog does not know this node type; its widget values are kept as they are`);
    }
    for (const key of ["color", "bgcolor"] as const) if (typeof raw[key] === "string") extra[key] = raw[key] as string;
    if (isRecord(raw.properties)) {
      // The writer regenerates "Node name for S&R"; keeping it would only add noise to diffs.
      const { ["Node name for S&R"]: searchName, ...kept } = raw.properties;
      const properties = searchName === type ? kept : raw.properties;
      if (Object.keys(properties).length > 0) extra.properties = properties as Json;
    }
    const flags = isRecord(raw.flags) ? raw.flags : {};
    nodes[id] = {
      id,
      type,
      pos: pair(raw.pos) ?? [0, 0],
      size: pair(raw.size),
      title: typeof raw.title === "string" ? raw.title : null,
      values,
      mode: Number(raw.mode ?? MODE_ALWAYS) || MODE_ALWAYS,
      collapsed: flags.collapsed === true,
      extra,
    };
    order.push(id);
  }
  const groups: EdGroup[] = (Array.isArray(workflow.groups) ? workflow.groups.filter(isRecord) : []).map((g, i) => {
    const b = Array.isArray(g.bounding) ? g.bounding.map(Number) : [0, 0, 0, 0];
    const { title, bounding, color, ...rest } = g;
    void bounding;
    return { id: `g${i + 1}`, title: typeof title === "string" ? title : "", bounds: [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0], color: typeof color === "string" ? color : null, extra: rest as Record<string, Json> };
  });
  const metadata: Record<string, Json> = {};
  for (const key of ["extra", "config", "version", "models"]) if (key in workflow) metadata[key] = workflow[key] as Json;
  const numeric = order.map(Number).filter(Number.isInteger);
  const nextId = Math.max(0, ...numeric) + 1;
  return { graph: { nodes, order, links: edLinks, groups, notes, metadata: { comfy_editor: metadata }, nextId }, warnings };
}

const editorId = (id: string): number | string => (/^\d+$/.test(id) ? Number(id) : id);

/** The graph as a ComfyUI editor workflow (schema 0.4), with layout, groups and notes. */
export function graphToEditor(graph: Graph, catalog: Catalog | null): Record<string, Json> {
  const rows: Json[][] = [];
  const outgoing = new Map<string, number[]>();
  const sockets = new Map<string, Json[]>();
  const nodeIds = graph.order.filter((id) => id in graph.nodes);
  for (const id of nodeIds) {
    const node = graph.nodes[id] as EdNode;
    const def = catalog?.nodes[node.type];
    const specs = def ? def.inputs.map((s) => ({ name: s.name, type: s.type, widget: s.widget })) : Object.values(graph.links).filter((l) => l.to === id).map((l) => ({ name: l.toInput, type: "*", widget: false }));
    const entries: Json[] = [];
    for (const spec of specs) {
      const link = graph.links[linkKey(id, spec.name)];
      let linkId: number | null = null;
      if (link && link.from in graph.nodes) {
        linkId = rows.length + 1;
        rows.push([linkId, editorId(link.from), link.fromSlot, editorId(id), entries.length, link.type]);
        const key = `${link.from}\u0000${link.fromSlot}`;
        outgoing.set(key, [...(outgoing.get(key) ?? []), linkId]);
      } else if (spec.widget) continue; // an unlinked widget has no socket in schema 0.4
      const entry: Record<string, Json> = { name: spec.name, type: spec.type, link: linkId };
      if (spec.widget) entry.widget = { name: spec.name };
      entries.push(entry);
    }
    sockets.set(id, entries);
  }
  const records: Json[] = nodeIds.map((id, order) => {
    const node = graph.nodes[id] as EdNode;
    const def = catalog?.nodes[node.type];
    const outputs = (def?.outputs ?? []).map((o, slot) => ({ name: o.name, type: o.type, links: outgoing.get(`${id}\u0000${slot}`) ?? [], slot_index: slot }));
    const properties = isRecord(node.extra.properties) ? (node.extra.properties as Record<string, Json>) : {};
    const record: Record<string, Json> = {
      id: editorId(id),
      type: node.type,
      pos: [node.pos[0], node.pos[1]],
      size: node.size ? [node.size[0], node.size[1]] : [315, 26 + 24 * (1 + (def?.inputs.length ?? 1))],
      flags: node.collapsed ? { collapsed: true } : {},
      order,
      mode: node.mode,
      inputs: sockets.get(id) ?? [],
      outputs,
      properties: { "Node name for S&R": node.type, ...properties },
    };
    const linked = new Set(Object.values(graph.links).filter((l) => l.to === id).map((l) => l.toInput));
    const controls = isRecord(node.extra.widget_controls) ? (node.extra.widget_controls as Record<string, Json>) : {};
    const widgets = def ? writeWidgetValues(def, node.values, linked, controls) : [];
    if (widgets.length > 0) record.widgets_values = widgets;
    else if (!def && node.extra.raw_widgets_values !== undefined) record.widgets_values = node.extra.raw_widgets_values;
    if (node.title !== null) record.title = node.title;
    for (const key of ["color", "bgcolor"] as const) if (typeof node.extra[key] === "string") record[key] = node.extra[key] as string;
    return record;
  });
  const all = [...records, ...graph.notes.map(editorNote)];
  const numeric = all.map((r) => (isRecord(r) ? r.id : null)).filter((v): v is number => typeof v === "number");
  const meta = isRecord(graph.metadata.comfy_editor) ? (graph.metadata.comfy_editor as Record<string, Json>) : {};
  const workflow: Record<string, Json> = {
    last_node_id: Math.max(0, ...numeric),
    last_link_id: rows.length,
    nodes: all,
    links: rows,
    groups: graph.groups.map((g) => ({ ...g.extra, title: g.title, bounding: [...g.bounds], ...(g.color ? { color: g.color } : {}) })),
    config: meta.config ?? {},
    extra: meta.extra ?? {},
    version: 0.4,
  };
  if (meta.models !== undefined) workflow.models = meta.models;
  return workflow;
}
