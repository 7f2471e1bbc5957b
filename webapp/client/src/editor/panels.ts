// The editor's DOM panels besides the canvas: the searchable palette, the outline view (nodes,
// links and groups as lists with forms), the presets panel and the properties panel.

import { h, type VNode } from "@cycle/dom";
import { type Catalog, searchCatalog } from "./catalog";
import { type EdNode, type Graph, nodeLabel } from "./model";
import { actionButton, nodeForm } from "./nodeForm";
import type { FocusRequest, NodeErrors, Preset, RunState } from "./state";

export function palette(catalog: Catalog | null, query: string, open: boolean): VNode {
  if (!open) return h("div.rx-ed-palette", { attrs: { hidden: true } });
  const found = catalog ? searchCatalog(catalog, query, 60) : [];
  return h("div.rx-ed-palette", { attrs: { role: "dialog", "aria-label": "Add a node" } }, [
    h("label", { attrs: { for: "rx-ed-palette-search" } }, "Search node types"),
    h("input#rx-ed-palette-search.rx-ed-palette-search", {
      attrs: { type: "search", autocomplete: "off", "aria-controls": "rx-ed-palette-list", "aria-describedby": "rx-ed-palette-help" },
      props: { value: query },
      hook: { insert: (vnode) => (vnode.elm as HTMLInputElement).focus() },
    }),
    h("p#rx-ed-palette-help.rx-ed-help", "Enter adds the first match; Escape closes."),
    catalog === null
      ? h("p", "Loading the node catalog…")
      : h(
          "ul#rx-ed-palette-list.rx-ed-palette-list",
          { attrs: { "aria-label": `${found.length} matching node types` } },
          found.map((def) => h("li", [actionButton(`${def.displayName}`, { type: "addNode", nodeType: def.name }, { title: `Add ${def.displayName} (${def.category})` }), h("span.rx-ed-category", def.category)])),
        ),
    actionButton("Close", { type: "palette", open: false }),
  ]);
}

export function properties(graph: Graph, catalog: Catalog | null, selection: readonly string[], errors: NodeErrors, focus: FocusRequest | null): VNode {
  const only = selection.length === 1 ? graph.nodes[selection[0] as string] : undefined;
  return h("aside.rx-ed-properties", { attrs: { "aria-label": "Properties of the selected node" } }, [
    h("h2", "Properties"),
    only
      ? nodeForm("p", graph, catalog, only, errors, focus)
      : h("p", selection.length === 0 ? "Select a node on the canvas or in the outline to edit it." : `${selection.length} nodes selected.`),
  ]);
}

function statusOf(id: string, run: RunState, errors: NodeErrors): string {
  const parts: string[] = [];
  if (errors[id]) parts.push("has errors");
  if (run.failed[id]) parts.push(`failed: ${run.failed[id]}`);
  else if (run.current === id) parts.push("running");
  else if (run.cached.includes(id)) parts.push("from cache");
  else if (run.ran.includes(id)) parts.push("ran");
  const p = run.progress[id];
  if (p && p[1] > 0) parts.push(`${Math.round((100 * p[0]) / p[1])}%`);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

export function outline(graph: Graph, catalog: Catalog | null, selection: readonly string[], errors: NodeErrors, run: RunState): VNode {
  const selected = new Set(selection);
  const links = Object.values(graph.links);
  const label = (id: string): string => {
    const node = graph.nodes[id];
    return node ? `${nodeLabel(node, catalog)} #${id}` : `#${id}`;
  };
  return h("section.rx-ed-outline", { attrs: { "aria-labelledby": "rx-ed-outline-title" } }, [
    h("h2#rx-ed-outline-title", "Outline"),
    addNodeForm(catalog),
    h("h3", `Nodes (${graph.order.length})`),
    h(
      "ul.rx-ed-outline-nodes",
      graph.order.map((id) => {
        const node = graph.nodes[id] as EdNode;
        return h("li", { key: id, class: { "rx-ed-selected": selected.has(id), "rx-ed-invalid": !!errors[id] } }, [
          actionButton(label(id) + statusOf(id, run, errors), { type: "select", ids: [id] }, { pressed: selected.has(id), title: `Select ${label(id)}` }),
          selected.has(id) && selection.length === 1 ? nodeForm("o", graph, catalog, node, errors) : null,
        ].filter((v): v is VNode => v !== null));
      }),
    ),
    h("h3", `Links (${links.length})`),
    h(
      "ul.rx-ed-outline-links",
      links.map((l) => {
        const out = graph.nodes[l.from] ? catalog?.nodes[(graph.nodes[l.from] as EdNode).type]?.outputs[l.fromSlot]?.name : undefined;
        const text = `${label(l.from)} · ${out ?? l.fromSlot} → ${label(l.to)} · ${l.toInput}`;
        return h("li", { key: `${l.to}/${l.toInput}` }, [h("span", text), actionButton("Remove", { type: "disconnect", to: l.to, input: l.toInput }, { title: `Remove the link ${text}` })]);
      }),
    ),
    h("h3", `Groups (${graph.groups.length})`),
    h(
      "ul.rx-ed-outline-groups",
      graph.groups.map((g) =>
        h("li", { key: g.id }, [
          h("label", { attrs: { for: `rx-ed-group-${g.id}` } }, "Group title"),
          h("input.rx-field", { attrs: { id: `rx-ed-group-${g.id}`, type: "text", "data-field": "groupTitle", "data-node": g.id, "data-input": "" }, props: { value: g.title } }),
          actionButton("Select", { type: "selectGroup", group: g.id }, { title: `Select group ${g.title}` }),
          actionButton("Delete group", { type: "deleteGroup", group: g.id }, { title: `Delete group ${g.title} (its nodes stay)` }),
        ]),
      ),
    ),
  ]);
}

function addNodeForm(catalog: Catalog | null): VNode {
  return h("div.rx-ed-row", [
    h("label", { attrs: { for: "rx-ed-add-type" } }, "Node type"),
    h(
      "select#rx-ed-add-type.rx-ed-add-type",
      catalog ? catalog.order.map((name) => h("option", { attrs: { value: name } }, `${catalog.nodes[name]?.displayName ?? name} (${catalog.nodes[name]?.category ?? ""})`)) : [],
    ),
    h("button.rx-ed-add-button", { attrs: { type: "button" } }, "Add node"),
  ]);
}

export function presetsPanel(presets: readonly Preset[], hasSelection: boolean): VNode {
  return h("section.rx-ed-presets", { attrs: { "aria-labelledby": "rx-ed-presets-title" } }, [
    h("h2#rx-ed-presets-title", "Presets"),
    h("form.rx-ed-preset-form", [
      h("label", { attrs: { for: "rx-ed-preset-name" } }, "Preset name"),
      h("input#rx-ed-preset-name", { attrs: { name: "name", type: "text", required: true } }),
      h("button", { attrs: { type: "submit", name: "scope", value: "selection", disabled: !hasSelection } }, "Save selection"),
      h("button", { attrs: { type: "submit", name: "scope", value: "whole" } }, "Save whole workflow"),
    ]),
    presets.length === 0
      ? h("p", "No presets yet.")
      : h(
          "ul",
          presets.map((p) =>
            h("li", { key: p.name }, [
              h("span", `${p.name} (${p.fragment.nodes.length} nodes)`),
              actionButton("Insert", { type: "insertPreset", name: p.name }, { title: `Insert preset ${p.name}` }),
              actionButton("Delete", { type: "deletePreset", name: p.name }, { title: `Delete preset ${p.name}` }),
            ]),
          ),
        ),
  ]);
}
