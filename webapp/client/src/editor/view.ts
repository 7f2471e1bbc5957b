// The editor's DOM: toolbar, messages, run status, the canvas element the canvas driver draws
// on, and the panels. Panels that only depend on the graph are thunks, so panning and zooming
// (which change only the viewport) do not re-render them.

import { h, thunk, type VNode } from "@cycle/dom";
import { actionButton } from "./nodeForm";
import { outline, palette, presetsPanel, properties } from "./panels";
import { savedBar, savedDialog } from "./savedView";
import { type EditorState, graphOf, type RunState } from "./state";

function toolbar(state: EditorState): VNode {
  const { past, future } = state.history;
  const hasSelection = state.selection.length > 0 || state.selectedGroups.length > 0;
  const running = state.run.status === "submitting";
  return h("div.rx-ed-toolbar", { attrs: { role: "toolbar", "aria-label": "Editor commands" } }, [
    actionButton("Add node", { type: "palette", open: true, query: "", at: null }, { title: "Add node (Space)" }),
    actionButton("Undo", { type: "undo" }, { title: "Undo (Ctrl+Z)", disabled: past.length === 0 }),
    actionButton("Redo", { type: "redo" }, { title: "Redo (Ctrl+Shift+Z)", disabled: future.length === 0 }),
    actionButton("Cut", { type: "cut" }, { title: "Cut (Ctrl+X)", disabled: !hasSelection }),
    actionButton("Copy", { type: "copy" }, { title: "Copy (Ctrl+C)", disabled: !hasSelection }),
    actionButton("Paste", { type: "paste" }, { title: "Paste (Ctrl+V)", disabled: state.clipboard === null }),
    actionButton("Delete", { type: "deleteSelection" }, { title: "Delete the selection (Delete)", disabled: !hasSelection }),
    actionButton("Group", { type: "groupSelection" }, { title: "Group the selection (Ctrl+G)", disabled: state.selection.length === 0 }),
    actionButton("Select all", { type: "selectAll" }, { title: "Select all (Ctrl+A)" }),
    actionButton("Fit", { type: "fitView" }, { title: "Fit to view (.)" }),
    actionButton("Zoom in", { type: "zoom", factor: 1.25 }, { title: "Zoom in (+)" }),
    actionButton("Zoom out", { type: "zoom", factor: 0.8 }, { title: "Zoom out (-)" }),
    actionButton("Minimap", { type: "toggleMinimap" }, { title: "Show the minimap (M)", pressed: state.minimap }),
    actionButton("Outline", { type: "toggleOutline" }, { title: "Show the outline view", pressed: state.outline }),
    actionButton("Export rxgen", { type: "export", format: "rxgen" }, { title: "Download as an rxgen document" }),
    actionButton("Export ComfyUI", { type: "export", format: "editor" }, { title: "Download as a ComfyUI editor workflow" }),
    actionButton("Export API", { type: "export", format: "api" }, { title: "Download as a ComfyUI API prompt" }),
    actionButton(running ? "Submitting…" : "Run", { type: "runSubmitted" }, { title: "Run the workflow", disabled: running || graphOf(state).order.length === 0, cls: "rx-primary" }),
  ]);
}

function runStatus(run: RunState): VNode {
  const text =
    run.status === "idle"
      ? "Not run yet."
      : `Job ${run.jobId ?? "—"}: ${run.status}${run.total > 0 ? `, ${run.done} of ${run.total} nodes done` : ""}${run.cached.length > 0 ? `, ${run.cached.length} from cache` : ""}.`;
  const current = run.current ? run.progress[run.current] : undefined;
  const fraction = current && current[1] > 0 ? current[0] / current[1] : null;
  return h("div.rx-ed-run", [
    h("p.rx-ed-run-text", { attrs: { role: "status", "aria-live": "polite" } }, text),
    fraction === null
      ? null
      : h(
          "div.rx-ed-progress",
          { attrs: { role: "progressbar", "aria-label": `Progress of node #${run.current}`, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(fraction * 100) } },
          [h("div.rx-ed-progress-fill", { style: { width: `${Math.round(fraction * 100)}%` } })],
        ),
  ].filter((v): v is VNode => v !== null));
}

export const CANVAS_HELP =
  "Drag nodes to move them; drag from an output dot to an input dot to link them; drag empty space to pan, Shift-drag to select a box; " +
  "the wheel zooms. Keys: Space adds a node, Delete removes the selection, arrows move it, [ and ] step through nodes, Ctrl+Z and Ctrl+Shift+Z undo and redo, " +
  "Ctrl+C, Ctrl+X, Ctrl+V copy, cut and paste, Ctrl+G groups, . fits the view, M toggles the minimap. The outline view offers every action as a form.";

export function view(state: EditorState): VNode {
  const graph = graphOf(state);
  const linkCount = Object.keys(graph.links).length;
  const message = state.message;
  return h("div.rx-editor", [
    savedBar(state),
    toolbar(state),
    state.catalogError ? h("p.rx-ed-catalog-error", state.catalogError) : null,
    runStatus(state.run),
    h("div.rx-ed-main", [
      h("div.rx-ed-stage", [
        h("div.rx-ed-canvas-wrap", [
        h("canvas.rx-editor-canvas", {
          attrs: {
            tabindex: 0,
            role: "application",
            "aria-roledescription": "node editor",
            "aria-label": `Workflow canvas: ${graph.order.length} nodes, ${linkCount} links, ${state.selection.length} selected`,
            "aria-describedby": "rx-ed-canvas-help",
          },
        }),
        // Messages float over the canvas: appearing or going, they never move it under the pointer.
        h("div.rx-ed-messages", [
          h("div.rx-ed-alert", { attrs: { role: "alert" } }, message?.kind === "error" ? [h("span", message.text), actionButton("Dismiss", { type: "dismissMessage" }, { title: "Dismiss the message" })] : []),
          h("div.rx-ed-info", { attrs: { role: "status", "aria-live": "polite" } }, message?.kind === "info" ? message.text : ""),
        ]),
        thunk("div.rx-ed-palette", "palette", palette, [state.catalog, state.palette.query, state.palette.open]),
        ]),
        h("p#rx-ed-canvas-help.rx-ed-help", CANVAS_HELP),
      ]),
      thunk("aside.rx-ed-properties", "properties", properties, [graph, state.catalog, state.selection, state.nodeErrors, state.focusRequest]),
    ]),
    state.outline ? thunk("section.rx-ed-outline", "outline", outline, [graph, state.catalog, state.selection, state.nodeErrors, state.run]) : null,
    thunk("section.rx-ed-presets", "presets", presetsPanel, [state.presets, state.selection.length > 0]),
    savedDialog(state.saved),
  ].filter((v): v is VNode => v !== null));
}
