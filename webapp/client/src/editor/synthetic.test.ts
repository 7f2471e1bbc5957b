import { describe, expect, it } from "vitest";
import { connectionProblem, disconnect, reaches } from "./model";
import { buildScene } from "./scene";
import { idleRun } from "./state";
import { syntheticGraph } from "./synthetic";
import { catalog } from "./testkit";

describe("the benchmark graph", () => {
  const cat = catalog();
  const graph = syntheticGraph(cat, 500, 700);

  it("has 500 nodes and 700 type-correct links without cycles", () => {
    expect(graph.order.length).toBe(500);
    const links = Object.values(graph.links);
    expect(links.length).toBe(700);
    for (const link of links) {
      // Checked as if the link were made now: types match and it closes no cycle.
      const without = disconnect(graph, link.to, link.toInput);
      expect(connectionProblem(without, cat, link.from, link.fromSlot, link.to, link.toInput)).toBeNull();
      expect(reaches(graph, link.to, link.from)).toBe(false);
    }
  });

  it("is the same graph every time", () => {
    expect(syntheticGraph(cat, 500, 700)).toEqual(graph);
  });

  it("builds its scene quickly", () => {
    const started = performance.now();
    const scene = buildScene(graph, cat, [], [], idleRun, {});
    const elapsed = performance.now() - started;
    expect(scene.nodes.length).toBe(500);
    expect(scene.links.length).toBe(700 * 4);
    // A generous ceiling for a slow CI core; typically a few milliseconds.
    expect(elapsed).toBeLessThan(250);
  });
});
