// The Editor component wired end to end with @cycle/state and @cycle/dom's mockDOMSource (the
// library's own test source): catalog loading, palette, run submission, validation errors,
// server events and export, all through the component's real sources and sinks.

import type { MainDOMSource, VNode } from "@cycle/dom";
import { withState } from "@cycle/state";
import { beforeAll, describe, expect, it } from "vitest";
import xs, { type Stream } from "xstream";
import type { CanvasIntent } from "./canvasDriver";
import type { Frame } from "./draw";
import type { EditorDownload, EditorHttpRequest, EditorHttpResponse, EditorSources } from "./index";
import { objectInfo } from "./testkit";

// snabbdom reads `window` when @cycle/dom loads; plain Node has none, so load it afterwards.
let Editor: typeof import("./index").Editor;
let mockDOMSource: typeof import("@cycle/dom").mockDOMSource;
beforeAll(async () => {
  (globalThis as { window?: unknown }).window ??= globalThis;
  ({ mockDOMSource } = await import("@cycle/dom"));
  ({ Editor } = await import("./index"));
});

interface Pushable<T> {
  stream: Stream<T>;
  push(value: T): void;
}
function pushable<T>(): Pushable<T> {
  const stream = xs.create<T>();
  return { stream, push: (value) => stream.shamefullySendNext(value) };
}

// What a delegated DOM event carries: the element that matched the selector.
const domEvent = (dataset: Record<string, string>, extra: Record<string, unknown> = {}): unknown => ({ ownerTarget: { dataset, ...extra }, ...extra });

// @cycle/state hands reducers over in microtasks: let them run before looking at the sinks.
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function textOf(node: VNode | string | undefined): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node;
  // A thunk renders only when patched into a real DOM: render it here.
  const lazy = node.data as { fn?: (...args: unknown[]) => VNode; args?: unknown[] } | undefined;
  if (lazy?.fn && lazy.args && node.children === undefined) return textOf(lazy.fn(...lazy.args));
  return (node.text ?? "") + (node.children ?? []).map((c) => textOf(c as VNode | string)).join(" ");
}

describe("Editor", () => {
  it("loads the catalog, adds a node from the palette, runs, shows errors, follows events and exports", async () => {
    const clicks = pushable<unknown>();
    const changes = pushable<unknown>();
    const searchInput = pushable<unknown>();
    const searchKeys = pushable<unknown>();
    const intents = pushable<CanvasIntent>();
    const responses = pushable<EditorHttpResponse>();
    const ws = pushable<{ kind: string; event?: unknown }>();
    const DOM = mockDOMSource({
      ".rx-act": { click: clicks.stream },
      ".rx-field": { change: changes.stream },
      ".rx-ed-palette-search": { input: searchInput.stream, keydown: searchKeys.stream },
    }) as unknown as MainDOMSource;
    const HTTP = { select: (category?: string) => responses.stream.filter((r) => category === undefined || r.category === category) };
    const main = withState((sources: EditorSources) => Editor(sources) as never);
    const sinks = main({ DOM, canvas: { intents: intents.stream }, HTTP, ws: ws.stream } as never) as unknown as {
      DOM: Stream<VNode>;
      HTTP: Stream<EditorHttpRequest>;
      canvas: Stream<Frame>;
      download: Stream<EditorDownload>;
    };
    const requests: EditorHttpRequest[] = [];
    const frames: Frame[] = [];
    const downloads: EditorDownload[] = [];
    let dom: VNode | undefined;
    sinks.HTTP.addListener({ next: (r) => requests.push(r) });
    sinks.canvas.addListener({ next: (f) => frames.push(f) });
    sinks.download.addListener({ next: (d) => downloads.push(d) });
    sinks.DOM.addListener({ next: (v) => (dom = v) });
    await settle();

    expect(requests).toEqual([{ category: "editor-nodes", url: "/api/nodes" }]);
    responses.push({ category: "editor-nodes", status: 200, ok: true, body: { nodes: objectInfo(), types: {} }, error: null });
    await settle();

    intents.push({ kind: "resize", width: 1000, height: 700 });
    await settle();
    intents.push({ kind: "key", key: " ", ctrl: false, shift: false, alt: false });
    await settle();
    searchInput.push(domEvent({}, { value: "vae decode" }));
    await settle();
    expect(textOf(dom)).toContain("VAE Decode");
    searchKeys.push({ key: "Enter" });
    await settle();
    expect(textOf(dom)).toContain("VAE Decode #1");
    expect(frames[frames.length - 1]?.scene.nodes.map((n) => n.title)).toEqual(["VAE Decode"]);

    clicks.push(domEvent({ action: JSON.stringify({ type: "runSubmitted" }) }));
    await settle();
    const run = requests[requests.length - 1];
    expect(run?.category).toBe("editor-run");
    expect(run?.url).toBe("/api/jobs");
    const workflow = (run?.body as { workflow: { format: string; graph: Record<string, { class_type: string }> } }).workflow;
    expect(workflow.format).toBe("rxgen.workflow");
    expect(workflow.graph["1"]?.class_type).toBe("VAEDecode");

    responses.push({
      category: "editor-run",
      status: 400,
      ok: false,
      body: { node_errors: { "1": { errors: [{ type: "required_input_missing", message: "Required input is missing", details: "vae", extra_info: { input_name: "vae" } }] } } },
      error: "Invalid workflow",
    });
    await settle();
    expect(textOf(dom)).toContain("Required input is missing: vae");
    expect(frames[frames.length - 1]?.scene.nodes[0]?.error).toBe("vae: Required input is missing: vae");

    clicks.push(domEvent({ action: JSON.stringify({ type: "runSubmitted" }) }));
    await settle();
    responses.push({ category: "editor-run", status: 201, ok: true, body: { id: "job-7", number: 1, node_errors: {} }, error: null });
    await settle();
    ws.push({ kind: "event", event: { $t: "components.workflow.protocol:NodeStarted", job_id: "job-7", node_id: "1" } });
    await settle();
    ws.push({ kind: "event", event: { $t: "components.workflow.protocol:JobProgress", job_id: "job-7", done: 0, total: 1, node_id: "1", node_value: 3, node_max: 4 } });
    await settle();
    expect(frames[frames.length - 1]?.scene.nodes[0]).toMatchObject({ status: "running", progress: 0.75 });
    ws.push({ kind: "event", event: { $t: "components.workflow.protocol:NodeExecuted", job_id: "job-7", node_id: "1", ui: {} } });
    await settle();
    ws.push({ kind: "event", event: { $t: "components.workflow.protocol:JobFinished", job_id: "job-7", outputs: {} } });
    await settle();
    expect(frames[frames.length - 1]?.scene.nodes[0]?.status).toBe("ran");
    expect(textOf(dom)).toContain("Job job-7: finished");

    changes.push(domEvent({ field: "title", node: "1", input: "" }, { value: "Decoder" }));
    await settle();
    clicks.push(domEvent({ action: JSON.stringify({ type: "export", format: "api" }) }));
    await settle();
    expect(downloads).toHaveLength(1);
    expect(downloads[0]?.filename).toBe("workflow_api.json");
    expect(JSON.parse(downloads[0]?.text ?? "{}")).toEqual({ "1": { class_type: "VAEDecode", inputs: {}, _meta: { title: "Decoder" } } });
  });

  it("draws a new frame only when something drawn changed", async () => {
    const intents = pushable<CanvasIntent>();
    const main = withState((sources: EditorSources) => Editor(sources) as never);
    const sinks = main({ DOM: mockDOMSource({}) as unknown as MainDOMSource, canvas: { intents: intents.stream } } as never) as unknown as { canvas: Stream<Frame>; DOM: Stream<VNode> };
    const frames: Frame[] = [];
    sinks.canvas.addListener({ next: (f) => frames.push(f) });
    sinks.DOM.addListener({});
    await settle();
    const before = frames.length;
    // Moving the pointer over an empty canvas changes the state (the pointer) but not the picture.
    intents.push({ kind: "pointermove", sx: 10, sy: 10, button: 0, shift: false, ctrl: false, alt: false, hit: { kind: "none" } });
    await settle();
    intents.push({ kind: "pointermove", sx: 20, sy: 10, button: 0, shift: false, ctrl: false, alt: false, hit: { kind: "none" } });
    await settle();
    expect(frames.length).toBe(before);
    intents.push({ kind: "wheel", sx: 10, sy: 10, dx: 0, dy: -100, ctrl: false });
    await settle();
    expect(frames.length).toBe(before + 1);
    expect(frames[frames.length - 1]?.viewport.zoom).toBeGreaterThan(1);
  });
});
