import { describe, expect, it } from "vitest";
import type { Action } from "./actions";
import { NO_HIT } from "./geometry";
import { nodeRect } from "./layout";
import { linkKey } from "./model";
import { reduce } from "./reducer";
import { type EditorState, graphOf, HISTORY_LIMIT, initialState } from "./state";
import { catalog, pointerAt, workflowFixture } from "./testkit";

const cat = catalog();
const ready = (): EditorState => reduce(initialState(), { type: "catalogLoaded", catalog: cat });
const apply = (state: EditorState, ...actions: Action[]): EditorState => actions.reduce(reduce, state);

/** Checkpoint loader (1), sampler (2), decoder (3). */
function threeNodes(): EditorState {
  return apply(
    ready(),
    { type: "addNode", nodeType: "CheckpointLoaderSimple", at: [0, 0] },
    { type: "addNode", nodeType: "KSampler", at: [400, 0] },
    { type: "addNode", nodeType: "VAEDecode", at: [800, 0] },
  );
}

describe("nodes and widgets", () => {
  it("adds nodes with the catalog's widget defaults and selects the new node", () => {
    const s = threeNodes();
    const graph = graphOf(s);
    expect(graph.order).toEqual(["1", "2", "3"]);
    expect(graph.nodes["2"]?.values).toMatchObject({ seed: 0, steps: 20, cfg: 8, denoise: 1, sampler_name: "euler" });
    expect(graph.nodes["2"]?.values).not.toHaveProperty("model");
    expect(s.selection).toEqual(["3"]);
  });

  it("refuses an unknown node type", () => {
    const s = reduce(ready(), { type: "addNode", nodeType: "NoSuchNode" });
    expect(graphOf(s).order).toEqual([]);
    expect(s.message?.kind).toBe("error");
  });

  it("checks widget values against the catalog's range and choices", () => {
    const s = threeNodes();
    const tooMany = reduce(s, { type: "setValue", node: "2", input: "steps", value: 0 });
    expect(tooMany.message?.text).toMatch(/steps must be at least 1/);
    expect(graphOf(tooMany)).toBe(graphOf(s));
    const fraction = reduce(s, { type: "setValue", node: "2", input: "steps", value: 2.5 });
    expect(fraction.message?.text).toMatch(/whole numbers/);
    const badChoice = reduce(s, { type: "setValue", node: "2", input: "sampler_name", value: "nope" });
    expect(badChoice.message?.text).toMatch(/sampler_name must be one of: euler/);
    const ok = reduce(s, { type: "setValue", node: "2", input: "cfg", value: 6.5 });
    expect(graphOf(ok).nodes["2"]?.values.cfg).toBe(6.5);
  });
});

describe("connections", () => {
  it("links a matching output into an input", () => {
    const s = reduce(threeNodes(), { type: "connect", from: "1", slot: 0, to: "2", input: "model" });
    expect(graphOf(s).links[linkKey("2", "model")]).toEqual({ from: "1", fromSlot: 0, to: "2", toInput: "model", type: "MODEL" });
    expect(s.message).toBeNull();
  });

  it("refuses a type mismatch and says why", () => {
    const before = threeNodes();
    const s = reduce(before, { type: "connect", from: "1", slot: 1, to: "2", input: "model" });
    expect(graphOf(s)).toBe(graphOf(before));
    expect(s.message?.kind).toBe("error");
    expect(s.message?.text).toBe('Connection refused: KSampler #2 input "model" takes MODEL, but output "CLIP" of Load Checkpoint #1 gives CLIP');
  });

  it("refuses cycles, self-links and missing sockets", () => {
    let s = apply(ready(), { type: "addNode", nodeType: "ImageInvert", at: [0, 0] }, { type: "addNode", nodeType: "ImageInvert", at: [300, 0] }, { type: "connect", from: "1", slot: 0, to: "2", input: "image" });
    const cycle = reduce(s, { type: "connect", from: "2", slot: 0, to: "1", input: "image" });
    expect(cycle.message?.text).toMatch(/would make a cycle/);
    expect(reduce(s, { type: "connect", from: "1", slot: 0, to: "1", input: "image" }).message?.text).toMatch(/cannot feed itself/);
    expect(reduce(s, { type: "connect", from: "1", slot: 5, to: "2", input: "image" }).message?.text).toMatch(/has no output 5/);
    expect(reduce(s, { type: "connect", from: "1", slot: 0, to: "2", input: "nope" }).message?.text).toMatch(/has no input "nope"/);
    s = reduce(s, { type: "disconnect", to: "2", input: "image" });
    expect(Object.keys(graphOf(s).links)).toEqual([]);
  });

  it("replaces the link an input had", () => {
    const s = apply(
      threeNodes(),
      { type: "addNode", nodeType: "CheckpointLoaderSimple", at: [0, 300] },
      { type: "connect", from: "1", slot: 0, to: "2", input: "model" },
      { type: "connect", from: "4", slot: 0, to: "2", input: "model" },
    );
    expect(Object.values(graphOf(s).links)).toEqual([{ from: "4", fromSlot: 0, to: "2", toInput: "model", type: "MODEL" }]);
  });

  it("lets a STRING output feed a combo widget input", () => {
    const s = apply(ready(), { type: "addNode", nodeType: "PrimitiveString" }, { type: "addNode", nodeType: "KSampler" }, { type: "connect", from: "1", slot: 0, to: "2", input: "sampler_name" });
    expect(s.message).toBeNull();
    expect(graphOf(s).links[linkKey("2", "sampler_name")]?.type).toBe("STRING");
  });
});

describe("undo and redo come from the state history", () => {
  it("walks back and forth through graphs, and a new edit drops the redo branch", () => {
    const s0 = ready();
    const s1 = reduce(s0, { type: "addNode", nodeType: "KSampler", at: [0, 0] });
    const s2 = reduce(s1, { type: "setValue", node: "1", input: "steps", value: 30 });
    const u1 = reduce(s2, { type: "undo" });
    expect(graphOf(u1)).toBe(graphOf(s1));
    const u2 = reduce(u1, { type: "undo" });
    expect(graphOf(u2)).toBe(graphOf(s0));
    expect(u2.selection).toEqual([]); // the node is gone, so is its selection
    expect(reduce(u2, { type: "undo" }).message?.text).toBe("nothing to undo");
    const r1 = reduce(u2, { type: "redo" });
    expect(graphOf(r1)).toBe(graphOf(s1));
    const r2 = reduce(r1, { type: "redo" });
    expect(graphOf(r2)).toBe(graphOf(s2));
    const branch = reduce(u1, { type: "setValue", node: "1", input: "steps", value: 5 });
    expect(branch.history.future).toEqual([]);
    expect(reduce(branch, { type: "redo" }).message?.text).toBe("nothing to redo");
  });

  it("records a whole drag as one step, and nothing for a click", () => {
    const s = threeNodes();
    const rect = nodeRect(graphOf(s), cat.nodes, "2")!;
    const title = { kind: "node", node: "2", part: "title" } as const;
    const [sx, sy] = [rect[0] + 20, rect[1] + 10];
    const down = reduce(s, { type: "pointerDown", p: pointerAt(sx, sy, title) });
    const moved = apply(down, { type: "pointerMove", p: pointerAt(sx + 10, sy, NO_HIT) }, { type: "pointerMove", p: pointerAt(sx + 50, sy + 20, NO_HIT) });
    expect(moved.history.past.length).toBe(s.history.past.length);
    const up = reduce(moved, { type: "pointerUp", p: pointerAt(sx + 50, sy + 20, NO_HIT) });
    expect(up.history.past.length).toBe(s.history.past.length + 1);
    expect(graphOf(up).nodes["2"]?.pos).toEqual([450, 20]);
    expect(graphOf(reduce(up, { type: "undo" })).nodes["2"]?.pos).toEqual([400, 0]);
    const click = apply(s, { type: "pointerDown", p: pointerAt(sx, sy, title) }, { type: "pointerUp", p: pointerAt(sx, sy, title) });
    expect(click.history.past.length).toBe(s.history.past.length);
    expect(click.selection).toEqual(["2"]);
  });

  it("keeps at most HISTORY_LIMIT steps", () => {
    let s = reduce(ready(), { type: "addNode", nodeType: "KSampler" });
    for (let i = 1; i <= HISTORY_LIMIT + 10; i += 1) s = reduce(s, { type: "setValue", node: "1", input: "steps", value: i });
    expect(s.history.past.length).toBe(HISTORY_LIMIT);
  });
});

describe("pointer gestures", () => {
  it("connects by dragging from an output to an input, and refuses a wrong input with the reason", () => {
    const s = threeNodes();
    const out = { kind: "output", node: "1", slot: 2 } as const; // VAE
    const ok = apply(s, { type: "pointerDown", p: pointerAt(10, 10, out) }, { type: "pointerMove", p: pointerAt(500, 50, NO_HIT) }, { type: "pointerUp", p: pointerAt(800, 50, { kind: "input", node: "3", input: "vae" }) });
    expect(graphOf(ok).links[linkKey("3", "vae")]?.from).toBe("1");
    expect(ok.history.past.length).toBe(s.history.past.length + 1);
    const bad = apply(s, { type: "pointerDown", p: pointerAt(10, 10, out) }, { type: "pointerUp", p: pointerAt(800, 50, { kind: "input", node: "3", input: "samples" }) });
    expect(Object.keys(graphOf(bad).links)).toEqual([]);
    expect(bad.message?.text).toMatch(/takes LATENT, but output "VAE"/);
  });

  it("dropping a wire on a node body picks its first fitting input", () => {
    const s = apply(threeNodes(), { type: "pointerDown", p: pointerAt(0, 0, { kind: "output", node: "2", slot: 0 }) }, { type: "pointerUp", p: pointerAt(0, 0, { kind: "node", node: "3", part: "body" }) });
    expect(graphOf(s).links[linkKey("3", "samples")]?.from).toBe("2");
  });

  it("lifting a wire off an input and dropping it on nothing removes the link in one step", () => {
    const linked = reduce(threeNodes(), { type: "connect", from: "1", slot: 0, to: "2", input: "model" });
    const s = apply(linked, { type: "pointerDown", p: pointerAt(0, 0, { kind: "input", node: "2", input: "model" }) }, { type: "pointerUp", p: pointerAt(0, 0, NO_HIT) });
    expect(graphOf(s).links).toEqual({});
    expect(graphOf(reduce(s, { type: "undo" }))).toBe(graphOf(linked));
  });

  it("box-selects with shift-drag and pans with a plain drag on empty canvas", () => {
    const s = threeNodes();
    const boxed = apply(s, { type: "pointerDown", p: pointerAt(-10, -10, NO_HIT, { shift: true }) }, { type: "pointerMove", p: pointerAt(500, 100, NO_HIT, { shift: true }) }, { type: "pointerUp", p: pointerAt(500, 100, NO_HIT) });
    expect(new Set(boxed.selection)).toEqual(new Set(["1", "2", "3"]));
    const panned = apply(s, { type: "pointerDown", p: pointerAt(100, 100, NO_HIT) }, { type: "pointerMove", p: pointerAt(150, 80, NO_HIT) }, { type: "pointerUp", p: pointerAt(150, 80, NO_HIT) });
    expect(panned.viewport).toEqual({ x: -50, y: 20, zoom: 1 });
    expect(panned.selection).toEqual([]);
  });

  it("shift-click toggles a node in the selection and drags the whole selection", () => {
    let s = reduce(threeNodes(), { type: "select", ids: ["1"] });
    s = apply(s, { type: "pointerDown", p: pointerAt(0, 0, { kind: "node", node: "2", part: "title" }, { shift: true }) }, { type: "pointerMove", p: pointerAt(10, 10, NO_HIT) }, { type: "pointerUp", p: pointerAt(10, 10, NO_HIT) });
    expect(s.selection).toEqual(["1", "2"]);
    expect(graphOf(s).nodes["1"]?.pos).toEqual([10, 10]);
    expect(graphOf(s).nodes["2"]?.pos).toEqual([410, 10]);
    expect(graphOf(s).nodes["3"]?.pos).toEqual([800, 0]);
  });

  it("resizes a node from its corner and zooms at the cursor", () => {
    const s = apply(threeNodes(), { type: "pointerDown", p: pointerAt(0, 0, { kind: "node", node: "3", part: "resize" }) }, { type: "pointerMove", p: pointerAt(1200, 300, NO_HIT) }, { type: "pointerUp", p: pointerAt(1200, 300, NO_HIT) });
    expect(graphOf(s).nodes["3"]?.size).toEqual([400, 300]);
    const zoomed = reduce(s, { type: "wheel", sx: 200, sy: 100, dx: 0, dy: -100, ctrl: false });
    expect(zoomed.viewport.zoom).toBeGreaterThan(1);
    expect(200 / zoomed.viewport.zoom + zoomed.viewport.x).toBeCloseTo(200);
  });

  it("double-clicking a widget row asks the properties panel to focus that field", () => {
    const first = reduce(threeNodes(), { type: "doubleClick", p: pointerAt(0, 0, { kind: "node", node: "2", part: "widget", input: "steps" }) });
    expect(first.selection).toEqual(["2"]);
    expect(first.focusRequest).toEqual({ node: "2", input: "steps", seq: 1 });
    const again = reduce(first, { type: "doubleClick", p: pointerAt(0, 0, { kind: "node", node: "2", part: "widget", input: "steps" }) });
    expect(again.focusRequest?.seq).toBe(2);
    const empty = reduce(first, { type: "doubleClick", p: pointerAt(5, 5, NO_HIT) });
    expect(empty.palette.open).toBe(true);
  });

  it("puts a node picked in a palette opened by a double-click where the double-click was", () => {
    const opened = reduce(ready(), { type: "doubleClick", p: pointerAt(3000, 2000, NO_HIT) });
    const at = opened.palette.at as readonly [number, number];
    const added = reduce(opened, { type: "addNode", nodeType: "KSampler" });
    const node = Object.values(graphOf(added).nodes)[0];
    expect(node?.pos).toEqual(at);
    expect(added.palette.open).toBe(false);
  });

  it("navigates with the minimap", () => {
    const s = reduce(threeNodes(), { type: "pointerDown", p: pointerAt(700, 500, { kind: "minimap", world: [1000, 2000] }) });
    expect(s.viewport.x + s.screen[0] / 2 / s.viewport.zoom).toBeCloseTo(1000);
    expect(s.viewport.y + s.screen[1] / 2 / s.viewport.zoom).toBeCloseTo(2000);
    expect(s.interaction.kind).toBe("minimap");
  });
});

describe("importing files", () => {
  it("holds a file that arrives before the catalog and opens it once the catalog is there", () => {
    const text = JSON.stringify(workflowFixture("txt2img_editor.json"));
    const waiting = reduce(initialState(), { type: "importFile", name: "txt2img.json", content: text });
    expect(graphOf(waiting).order).toEqual([]);
    expect(waiting.pendingImport?.name).toBe("txt2img.json");
    const opened = reduce(waiting, { type: "catalogLoaded", catalog: cat });
    expect(opened.pendingImport).toBeNull();
    expect(graphOf(opened).nodes["3"]?.values.steps).toBe(20); // widget values named by the catalog
    expect(opened.message).toEqual({ kind: "info", text: "Opened txt2img.json (ComfyUI workflow): 7 nodes, 9 links." });
    expect(graphOf(reduce(opened, { type: "undo" })).order).toEqual([]);
  });

  it("says what was wrong with a file it cannot read", () => {
    const s = reduce(ready(), { type: "importFile", name: "notes.txt", content: "hello" });
    expect(s.message?.text).toMatch(/^Could not import notes.txt: notes.txt is not JSON/);
  });
});

describe("clipboard, groups, presets, keys", () => {
  it("copies and pastes nodes with their inner links under new ids", () => {
    let s = apply(threeNodes(), { type: "connect", from: "1", slot: 0, to: "2", input: "model" }, { type: "connect", from: "2", slot: 0, to: "3", input: "samples" }, { type: "select", ids: ["2", "3"] }, { type: "copy" });
    s = reduce(s, { type: "paste", at: [0, 500] });
    const graph = graphOf(s);
    expect(graph.order).toEqual(["1", "2", "3", "4", "5"]);
    expect(s.selection).toEqual(["4", "5"]);
    expect(graph.links[linkKey("5", "samples")]?.from).toBe("4");
    expect(graph.links[linkKey("4", "model")]).toBeUndefined(); // its source was not copied
    expect(graph.nodes["4"]?.pos).toEqual([0, 500]);
    const cut = apply(s, { type: "select", ids: ["1"] }, { type: "cut" });
    expect(graphOf(cut).nodes["1"]).toBeUndefined();
    expect(cut.clipboard?.nodes.map((n) => n.type)).toEqual(["CheckpointLoaderSimple"]);
  });

  it("groups the selection and drags a group with its nodes", () => {
    let s = apply(threeNodes(), { type: "select", ids: ["1", "2"] }, { type: "groupSelection", title: "Loaders" });
    const group = graphOf(s).groups[0]!;
    expect(group.title).toBe("Loaders");
    s = apply(s, { type: "pointerDown", p: pointerAt(0, 0, { kind: "group", group: group.id, part: "title" }) }, { type: "pointerMove", p: pointerAt(0, 100, NO_HIT) }, { type: "pointerUp", p: pointerAt(0, 100, NO_HIT) });
    expect(graphOf(s).nodes["1"]?.pos).toEqual([0, 100]);
    expect(graphOf(s).nodes["3"]?.pos).toEqual([800, 0]);
    expect(graphOf(s).groups[0]?.bounds[1]).toBe(group.bounds[1] + 100);
  });

  it("saves a selection as a preset and inserts it later", () => {
    let s = apply(threeNodes(), { type: "connect", from: "2", slot: 0, to: "3", input: "samples" }, { type: "select", ids: ["2", "3"] }, { type: "savePreset", name: "sample+decode", whole: false });
    expect(s.presets.map((p) => p.name)).toEqual(["sample+decode"]);
    s = reduce(s, { type: "insertPreset", name: "sample+decode", at: [0, 900] });
    expect(graphOf(s).order.length).toBe(5);
    expect(graphOf(s).links[linkKey("5", "samples")]?.from).toBe("4");
    const whole = reduce(s, { type: "savePreset", name: "all", whole: true });
    expect(whole.presets.find((p) => p.name === "all")?.fragment.nodes.length).toBe(5);
    expect(reduce(ready(), { type: "savePreset", name: "x", whole: true }).message?.kind).toBe("error");
  });

  it("maps keys to commands", () => {
    let s = reduce(threeNodes(), { type: "key", key: "Delete", ctrl: false, shift: false, alt: false });
    expect(graphOf(s).order).toEqual(["1", "2"]);
    s = reduce(s, { type: "key", key: "z", ctrl: true, shift: false, alt: false });
    expect(graphOf(s).order).toEqual(["1", "2", "3"]);
    s = reduce(s, { type: "key", key: "a", ctrl: true, shift: false, alt: false });
    expect(s.selection).toEqual(["1", "2", "3"]);
    s = reduce(s, { type: "key", key: "ArrowRight", ctrl: false, shift: false, alt: false });
    expect(graphOf(s).nodes["1"]?.pos).toEqual([10, 0]);
    s = reduce(s, { type: "key", key: "]", ctrl: false, shift: false, alt: false });
    expect(s.selection).toEqual(["1"]);
    s = reduce(s, { type: "key", key: ".", ctrl: false, shift: false, alt: false });
    // With a selection, "fit" frames the selection: node 1 ends up in the middle of the view.
    const r = nodeRect(graphOf(s), cat.nodes, "1")!;
    expect(s.viewport.x + s.screen[0] / 2 / s.viewport.zoom).toBeCloseTo(r[0] + r[2] / 2);
  });

  it("fits the view around the whole graph", () => {
    const s = apply({ ...threeNodes(), screen: [1000, 500] }, { type: "clearSelection" }, { type: "fitView" });
    const graph = graphOf(s);
    for (const id of graph.order) {
      const r = nodeRect(graph, cat.nodes, id)!;
      expect(r[0]).toBeGreaterThanOrEqual(s.viewport.x);
      expect(r[0] + r[2]).toBeLessThanOrEqual(s.viewport.x + 1000 / s.viewport.zoom);
      expect(r[1] + r[3]).toBeLessThanOrEqual(s.viewport.y + 500 / s.viewport.zoom);
    }
  });
});
