import { describe, expect, it } from "vitest";
import { fitView, hitTest, linkVisible, MINIMAP_H, MINIMAP_MARGIN, MINIMAP_W, minimapMap, minimapToWorld, rectVisible, ROW_H, TITLE_H, toScreen, toWorld, type Viewport, zoomAt } from "./geometry";
import { addNode, connect, type Graph, emptyGraph } from "./model";
import { buildScene, type SceneNode } from "./scene";
import { idleRun } from "./state";
import { catalog } from "./testkit";

const cat = catalog();

function sampleGraph(): Graph {
  let [g] = addNode(emptyGraph, cat, "CheckpointLoaderSimple", [0, 0]);
  [g] = addNode(g, cat, "KSampler", [400, 0]);
  const linked = connect(g, cat, "1", 0, "2", "model");
  if (!linked.ok) throw new Error(linked.error);
  return linked.value;
}

const at1: Viewport = { x: 0, y: 0, zoom: 1 };

describe("viewport transforms", () => {
  it("maps screen to world and back at any zoom", () => {
    const v: Viewport = { x: -120, y: 40, zoom: 0.37 };
    const [wx, wy] = toWorld(v, 300, 200);
    const [sx, sy] = toScreen(v, wx, wy);
    expect(sx).toBeCloseTo(300);
    expect(sy).toBeCloseTo(200);
  });

  it("zooms about the cursor and clamps the zoom", () => {
    const v = zoomAt(at1, 200, 100, 2);
    expect(toWorld(v, 200, 100)).toEqual([200, 100]);
    expect(zoomAt(at1, 0, 0, 1000).zoom).toBe(4);
    expect(zoomAt(at1, 0, 0, 0.0001).zoom).toBe(0.1);
  });

  it("fits bounds inside the screen with a margin", () => {
    const v = fitView([1000, 2000, 4000, 1000], 800, 600, 40);
    const [x0, y0] = toScreen(v, 1000, 2000);
    const [x1, y1] = toScreen(v, 5000, 3000);
    expect(x0).toBeGreaterThanOrEqual(39.9);
    expect(x1).toBeLessThanOrEqual(760.1);
    expect(y0).toBeGreaterThanOrEqual(0);
    expect(y1).toBeLessThanOrEqual(600);
  });
});

describe("culling", () => {
  const view = [0, 0, 100, 100] as const;
  it("keeps rectangles that touch the view and drops the rest", () => {
    expect(rectVisible(view, 90, 90, 50, 50)).toBe(true);
    expect(rectVisible(view, 101, 0, 10, 10)).toBe(false);
    expect(rectVisible(view, -20, -20, 10, 10)).toBe(false);
  });
  it("keeps a link whose curve may cross the view even when both ends are outside", () => {
    expect(linkVisible(view, -500, 50, 600, 50)).toBe(true);
    expect(linkVisible(view, -500, 500, -100, 600)).toBe(false);
    // A backwards link bends out past both ends: its hull reaches into the view.
    expect(linkVisible(view, -30, 50, -60, 50)).toBe(true);
  });
});

describe("hit-testing the scene", () => {
  const scene = buildScene(sampleGraph(), cat, [], [], idleRun, {});
  const sampler = scene.nodes.find((n) => n.id === "2") as SceneNode;
  const hit = (wx: number, wy: number, v: Viewport = at1): ReturnType<typeof hitTest> => {
    const [sx, sy] = toScreen(v, wx, wy);
    return hitTest(scene, v, 2000, 1200, sx, sy, false);
  };

  it("finds sockets, title, widget rows, the resize corner, the body and nothing", () => {
    const model = sampler.inputs.find((s) => s.name === "model")!;
    expect(hit(model.x + 2, model.y - 2)).toEqual({ kind: "input", node: "2", input: "model" });
    const out = scene.nodes[0]!.outputs[2]!;
    expect(hit(out.x, out.y)).toEqual({ kind: "output", node: "1", slot: 2 });
    expect(hit(sampler.x + 50, sampler.y + TITLE_H / 2)).toEqual({ kind: "node", node: "2", part: "title" });
    const steps = sampler.rows.find((r) => r.input === "steps")!;
    expect(hit(sampler.x + 60, steps.y + ROW_H / 2)).toEqual({ kind: "node", node: "2", part: "widget", input: "steps" });
    expect(hit(sampler.x + sampler.w - 3, sampler.y + sampler.h - 3)).toEqual({ kind: "node", node: "2", part: "resize" });
    expect(hit(sampler.x + sampler.w / 2, sampler.y + TITLE_H + 2)).toMatchObject({ kind: "node", node: "2" });
    expect(hit(-500, -500)).toEqual({ kind: "none" });
  });

  it("grows the socket reach when zoomed out, so sockets stay grabbable", () => {
    const far: Viewport = { x: -100, y: -100, zoom: 0.2 };
    const model = sampler.inputs.find((s) => s.name === "model")!;
    expect(hit(model.x - 30, model.y, far)).toEqual({ kind: "input", node: "2", input: "model" });
    expect(hit(model.x - 30, model.y)).toEqual({ kind: "none" });
  });

  it("hits the minimap first, and maps minimap points to the world", () => {
    const [w, h] = [1000, 700];
    const map = minimapMap(scene.bounds, at1, w, h);
    expect(map.rect).toEqual([w - MINIMAP_W - MINIMAP_MARGIN, h - MINIMAP_H - MINIMAP_MARGIN, MINIMAP_W, MINIMAP_H]);
    const sx = map.rect[0] + 50;
    const sy = map.rect[1] + 40;
    const result = hitTest(scene, at1, w, h, sx, sy, true);
    expect(result.kind).toBe("minimap");
    const world = minimapToWorld(map, sx, sy);
    expect(result).toEqual({ kind: "minimap", world });
    // The minimap's world area covers the whole graph.
    const b = scene.bounds!;
    expect(map.world[0]).toBeLessThanOrEqual(b[0]);
    expect(map.world[0] + map.world[2]).toBeGreaterThanOrEqual(b[0] + b[2]);
  });
});

describe("the scene", () => {
  it("batches links and sockets into runs of one colour", () => {
    const scene = buildScene(sampleGraph(), cat, ["2"], [], idleRun, { "2": { node: [], inputs: { steps: ["too big"] } } });
    expect(scene.links.length).toBe(4);
    expect(scene.linkRuns).toEqual([{ color: "#b39ddb", start: 0, end: 1 }]);
    const total = scene.socketRuns.reduce((n, r) => n + r.end - r.start, 0);
    expect(total * 2).toBe(scene.sockets.length);
    const colors = scene.socketRuns.map((r) => r.color);
    expect(new Set(colors).size).toBe(colors.length);
    const sampler = scene.nodes[1]!;
    expect(sampler.selected).toBe(true);
    expect(sampler.rows.find((r) => r.input === "steps")?.error).toBe(true);
    expect(sampler.error).toBe("steps: too big");
  });

  it("marks nodes that ran, came from cache, failed, and shows progress", () => {
    const run = { ...idleRun, jobId: "j", status: "running" as const, ran: ["1"], cached: [], current: "2", progress: { "2": [5, 20] as const } };
    const scene = buildScene(sampleGraph(), cat, [], [], run, {});
    expect(scene.nodes.map((n) => n.status)).toEqual(["ran", "running"]);
    expect(scene.nodes[1]?.progress).toBe(0.25);
  });
});
