// Where a node's sockets and widget rows sit, relative to its top-left corner. Link-only inputs
// and outputs share the first rows (inputs left, outputs right); each widget input then gets a
// row of its own with a socket on the left, so that any widget can also be fed by a link.

import type { NodeTypeDef } from "./catalog";
import { NODE_MIN_W, PAD, ROW_H, TITLE_H } from "./geometry";
import type { EdNode, Graph, Rect } from "./model";

export interface SocketPlace {
  readonly name: string;
  readonly type: string;
  readonly dy: number;
  readonly widget: boolean;
}

export interface OutputPlace {
  readonly slot: number;
  readonly name: string;
  readonly type: string;
  readonly dy: number;
}

export interface NodeLayout {
  readonly w: number;
  readonly h: number;
  readonly inputs: readonly SocketPlace[];
  readonly outputs: readonly OutputPlace[];
  /** Widget rows: top of the row, relative to the node. */
  readonly rows: readonly { readonly input: string; readonly dy: number }[];
}

const CHAR_W = 7;

/**
 * The layout of `node`. `linkedNames` are inputs that have a link; for a node type the catalog
 * does not know, they are the only sockets it can show.
 */
export function nodeLayout(node: EdNode, def: NodeTypeDef | undefined, linkedNames: readonly string[] = []): NodeLayout {
  const specs = def
    ? def.inputs.map((s) => ({ name: s.name, type: s.type, widget: s.widget }))
    : [
        ...linkedNames.map((name) => ({ name, type: "*", widget: false })),
        ...Object.keys(node.values)
          .filter((name) => !linkedNames.includes(name))
          .map((name) => ({ name, type: "*", widget: true })),
      ];
  const outs = def?.outputs ?? [];
  const title = node.title ?? def?.displayName ?? node.type;
  if (node.collapsed) {
    const mid = TITLE_H / 2;
    const w = Math.max(80, Math.min(260, title.length * CHAR_W + 40));
    return {
      w,
      h: TITLE_H,
      inputs: specs.map((s) => ({ ...s, dy: mid })),
      outputs: outs.map((o, slot) => ({ slot, name: o.name, type: o.type, dy: mid })),
      rows: [],
    };
  }
  const sockets = specs.filter((s) => !s.widget);
  const widgets = specs.filter((s) => s.widget);
  const slotRows = Math.max(sockets.length, outs.length);
  const rowY = (row: number): number => TITLE_H + PAD / 2 + row * ROW_H;
  const inputs: SocketPlace[] = sockets.map((s, i) => ({ ...s, dy: rowY(i) + ROW_H / 2 }));
  const rows = widgets.map((s, i) => ({ input: s.name, dy: rowY(slotRows + i) }));
  widgets.forEach((s, i) => inputs.push({ ...s, dy: rowY(slotRows + i) + ROW_H / 2 }));
  const outputs = outs.map((o, slot) => ({ slot, name: o.name, type: o.type, dy: rowY(slot) + ROW_H / 2 }));
  const longest = Math.max(
    title.length + 4,
    ...sockets.map((s, i) => s.name.length + (outs[i]?.name.length ?? 0) + 4),
    ...widgets.map((s) => s.name.length + 14),
  );
  const minW = Math.max(NODE_MIN_W, Math.min(420, longest * CHAR_W));
  const minH = rowY(slotRows + widgets.length) + PAD;
  const w = node.size ? Math.max(node.size[0], 80) : minW;
  const h = node.size ? Math.max(node.size[1], minH) : minH;
  return { w, h, inputs, outputs, rows };
}

/** Input names of `id` that have a link, for nodes of unknown types. */
export function linkedInputs(graph: Graph, id: string): string[] {
  const names: string[] = [];
  for (const link of Object.values(graph.links)) if (link.to === id) names.push(link.toInput);
  return names;
}

export function nodeRect(graph: Graph, defs: Readonly<Record<string, NodeTypeDef>>, id: string): Rect | null {
  const node = graph.nodes[id];
  if (!node) return null;
  const def = defs[node.type];
  const layout = nodeLayout(node, def, def ? [] : linkedInputs(graph, id));
  return [node.pos[0], node.pos[1], layout.w, layout.h];
}
