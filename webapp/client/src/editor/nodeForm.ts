// The form for one node: title, mode, position, every input (a widget for literal values with the
// catalog's range and choices, and a "linked from" choice of compatible outputs), its errors, and
// delete. The properties panel and the outline view both show it, so keyboard and screen-reader
// users can do everything the canvas does.

import { h, type VNode } from "@cycle/dom";
import type { Action } from "./actions";
import { type Catalog, type InputDef, typeColor } from "./catalog";
import { type EdNode, type Graph, linkKey, MODE_ALWAYS, MODE_BYPASS, MODE_MUTED, nodeLabel } from "./model";
import type { FocusRequest, NodeErrors } from "./state";
import { isCompatible } from "./types";

/** A button that performs `action` (read back by intent.ts from data-action). */
export function actionButton(label: string, action: Action, extra: { title?: string; disabled?: boolean; cls?: string; pressed?: boolean } = {}): VNode {
  const attrs: Record<string, string | boolean> = { type: "button", "data-action": JSON.stringify(action) };
  if (extra.title) attrs.title = extra.title;
  // A longer spoken name only when it still contains the visible text (WCAG 2.5.3).
  if (extra.title && extra.title !== label && extra.title.toLowerCase().includes(label.toLowerCase())) attrs["aria-label"] = extra.title;
  if (extra.disabled) attrs.disabled = true;
  if (extra.pressed !== undefined) attrs["aria-pressed"] = extra.pressed ? "true" : "false";
  return h(`button.rx-act${extra.cls ? `.${extra.cls}` : ""}`, { attrs }, label);
}

// `scope` keeps ids unique when the same node's form shows twice (properties and outline).
const fieldId = (scope: string, node: string, what: string): string => `rx-ed-${scope}-${node}-${what}`.replace(/[^A-Za-z0-9_-]/g, "_");

/** A form field: `field` names what a change sets (read back by intent.ts). */
function control(tag: string, id: string, node: string, field: string, input: string, props: Record<string, unknown>, attrs: Record<string, string | number | boolean> = {}, children: VNode[] = []): VNode {
  return h(tag + ".rx-field", { attrs: { id, "data-node": node, "data-field": field, "data-input": input, ...attrs }, props, hook: attrs["data-focus"] === undefined ? {} : FOCUS_HOOK }, children);
}

const focusSeq = (vnode: VNode): unknown => vnode.data?.attrs?.["data-focus"];
// A double-click on a widget row of the canvas asks for its field: focus it once per request.
const FOCUS_HOOK = {
  insert: (vnode: VNode) => (vnode.elm as HTMLElement).focus(),
  update: (old: VNode, vnode: VNode) => {
    if (focusSeq(old) !== focusSeq(vnode)) (vnode.elm as HTMLElement).focus();
  },
};


function widgetControl(node: EdNode, spec: InputDef, id: string, describedBy: string | null, focus: FocusRequest | null): VNode {
  const value = node.values[spec.name];
  const extra: Record<string, string | number | boolean> = describedBy ? { "aria-describedby": describedBy, "aria-invalid": "true" } : {};
  if (focus && focus.node === node.id && focus.input === spec.name) extra["data-focus"] = focus.seq;
  if (spec.choices) {
    const options = spec.choices.map(String);
    const current = value === undefined || value === null ? "" : String(value);
    const all = current === "" || options.includes(current) ? options : [current, ...options];
    return control("select", id, node.id, "value", spec.name, { value: current }, { ...extra, "data-kind": typeof spec.choices[0] === "number" ? "number" : "string" }, all.map((o) => h("option", { attrs: { value: o, selected: o === current } }, o)));
  }
  if (spec.type === "BOOLEAN") return control("input", id, node.id, "value", spec.name, { checked: value === true }, { ...extra, type: "checkbox", "data-kind": "boolean" });
  if (spec.type === "INT" || spec.type === "FLOAT") {
    const range: Record<string, number | string> = { step: spec.step ?? (spec.type === "INT" ? 1 : "any") };
    if (spec.min !== undefined) range.min = spec.min;
    // Numbers past 2^53 (a seed's max) are not representable; the browser would round them.
    if (spec.max !== undefined && spec.max <= Number.MAX_SAFE_INTEGER) range.max = spec.max;
    return control("input", id, node.id, "value", spec.name, { value: value === undefined || value === null ? "" : String(value) }, { ...extra, ...range, type: "number", inputmode: spec.type === "INT" ? "numeric" : "decimal", "data-kind": spec.type === "INT" ? "int" : "float" });
  }
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
  if (spec.multiline) return control("textarea", id, node.id, "value", spec.name, { value: text }, { ...extra, rows: 3, "data-kind": "string" });
  return control("input", id, node.id, "value", spec.name, { value: text }, { ...extra, type: "text", "data-kind": "string" });
}

/** Every output in the graph that may feed `spec` of `node`, as link choices. */
function linkChoices(graph: Graph, catalog: Catalog, node: EdNode, spec: InputDef): { value: string; label: string }[] {
  const choices: { value: string; label: string }[] = [];
  for (const id of graph.order) {
    if (id === node.id) continue;
    const source = graph.nodes[id];
    const def = source ? catalog.nodes[source.type] : undefined;
    if (!source || !def) continue;
    def.outputs.forEach((out, slot) => {
      if (isCompatible(out.type, spec.type)) choices.push({ value: `${id}:${slot}`, label: `${nodeLabel(source, catalog)} #${id} · ${out.name}` });
    });
  }
  return choices;
}

function inputRow(scope: string, graph: Graph, catalog: Catalog, node: EdNode, spec: InputDef, errors: NodeErrors, focus: FocusRequest | null): VNode {
  const link = graph.links[linkKey(node.id, spec.name)];
  const messages = errors[node.id]?.inputs[spec.name] ?? [];
  const errorId = messages.length > 0 ? fieldId(scope, node.id, `${spec.name}-error`) : null;
  const valueId = fieldId(scope, node.id, `${spec.name}-value`);
  const linkId = fieldId(scope, node.id, `${spec.name}-link`);
  const current = link ? `${link.from}:${link.fromSlot}` : "";
  const choices = linkChoices(graph, catalog, node, spec);
  const parts: (VNode | string | null)[] = [
    h("div.rx-ed-input-name", [
      h("span.rx-ed-swatch", { attrs: { "aria-hidden": "true" }, style: { background: typeColor(catalog, spec.type) } }),
      spec.widget && !link ? h("label", { attrs: { for: valueId } }, spec.name) : h("span", spec.name),
      h("span.rx-ed-type", ` ${spec.type}${spec.required ? "" : " (optional)"}`),
    ]),
    spec.widget && !link ? widgetControl(node, spec, valueId, errorId, focus) : null,
    h("div.rx-ed-link", [
      h("label", { attrs: { for: linkId } }, `${spec.name} linked from`),
      control(
        "select",
        linkId,
        node.id,
        "link",
        spec.name,
        { value: current },
        errorId && !(spec.widget && !link) ? { "aria-describedby": errorId, "aria-invalid": "true" } : {},
        [h("option", { attrs: { value: "", selected: current === "" } }, spec.widget ? "no link (use the value)" : "not linked"), ...choices.map((c) => h("option", { attrs: { value: c.value, selected: c.value === current } }, c.label))],
      ),
    ]),
    errorId ? h("ul.rx-ed-errors", { attrs: { id: errorId } }, messages.map((m) => h("li", m))) : null,
  ];
  return h("li.rx-ed-input", { class: { "rx-ed-invalid": messages.length > 0 } }, parts.filter((p): p is VNode => p !== null));
}

export function nodeForm(scope: string, graph: Graph, catalog: Catalog | null, node: EdNode, errors: NodeErrors, focus: FocusRequest | null = null): VNode {
  const def = catalog?.nodes[node.type];
  const label = nodeLabel(node, catalog);
  const nodeMessages = errors[node.id]?.node ?? [];
  const outgoing = Object.values(graph.links).filter((l) => l.from === node.id);
  const titleId = fieldId(scope, node.id, "title");
  const modeId = fieldId(scope, node.id, "mode");
  return h("div.rx-ed-node-form", { attrs: { role: "group", "aria-label": `${label} #${node.id}`, "data-node": node.id } }, [
    h("h3", `${label} #${node.id}`),
    h("p.rx-ed-node-type", def ? `${def.name} · ${def.category}${def.description ? ` — ${def.description}` : ""}` : `${node.type} (not in the catalog)`),
    nodeMessages.length > 0 ? h("ul.rx-ed-errors", { attrs: { role: "list", "aria-label": "errors" } }, nodeMessages.map((m) => h("li", m))) : null,
    h("div.rx-ed-row", [h("label", { attrs: { for: titleId } }, "Title"), control("input", titleId, node.id, "title", "", { value: node.title ?? "" }, { type: "text", placeholder: def?.displayName ?? node.type })]),
    h("div.rx-ed-row", [
      h("label", { attrs: { for: modeId } }, "Mode"),
      control("select", modeId, node.id, "mode", "", { value: String(node.mode) }, {}, [
        h("option", { attrs: { value: String(MODE_ALWAYS), selected: node.mode === MODE_ALWAYS } }, "runs"),
        h("option", { attrs: { value: String(MODE_MUTED), selected: node.mode === MODE_MUTED } }, "muted (skipped with what only it feeds)"),
        h("option", { attrs: { value: String(MODE_BYPASS), selected: node.mode === MODE_BYPASS } }, "bypassed (inputs pass through)"),
      ]),
    ]),
    h("div.rx-ed-row", [
      h("label", { attrs: { for: fieldId(scope, node.id, "x") } }, "X"),
      control("input", fieldId(scope, node.id, "x"), node.id, "x", "", { value: String(Math.round(node.pos[0])) }, { type: "number", step: 10 }),
      h("label", { attrs: { for: fieldId(scope, node.id, "y") } }, "Y"),
      control("input", fieldId(scope, node.id, "y"), node.id, "y", "", { value: String(Math.round(node.pos[1])) }, { type: "number", step: 10 }),
    ]),
    def && catalog
      ? h("fieldset", [h("legend", "Inputs"), h("ul.rx-ed-inputs", def.inputs.map((spec) => inputRow(scope, graph, catalog, node, spec, errors, focus)))])
      : h("p", "The catalog does not know this node type: its inputs cannot be edited here."),
    outgoing.length > 0
      ? h("div", [h("h4", "Feeds"), h("ul", outgoing.map((l) => h("li", `${def?.outputs[l.fromSlot]?.name ?? l.fromSlot} → ${graph.nodes[l.to] ? nodeLabel(graph.nodes[l.to] as EdNode, catalog) : l.to} #${l.to} · ${l.toInput}`)))])
      : null,
    h("div.rx-ed-row", [
      actionButton(node.collapsed ? "Expand" : "Collapse", { type: "toggleCollapse", node: node.id }),
      actionButton("Show on canvas", { type: "focusNode", node: node.id }),
      actionButton("Delete node", { type: "deleteNode", node: node.id }, { cls: "rx-danger" }),
    ]),
  ].filter((p): p is VNode => p !== null));
}
