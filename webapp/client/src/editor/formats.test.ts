import { describe, expect, it } from "vitest";
import { apiToGraph, graphToApi } from "./formats/comfyApi";
import { EditorFormatError, editorToGraph, graphToEditor } from "./formats/comfyEditor";
import { detectFormat, exportWorkflow, importFile, ImportError, importWorkflow } from "./formats/index";
import { danglingLinks, documentToGraph, graphToDocument } from "./formats/rxgen";
import { linkKey, MODE_BYPASS, MODE_MUTED } from "./model";
import { catalog, workflowFixture } from "./testkit";

const cat = catalog();

describe("ComfyUI editor format", () => {
  // The server's own reading of these fixtures (tests/components/workflow) is the expected result.
  it.each(["txt2img", "features"])("%s: the queued prompt equals the server's", (name) => {
    const { graph } = editorToGraph(workflowFixture(`${name}_editor.json`), cat);
    expect(graphToApi(graph, cat)).toEqual(workflowFixture(`${name}_api.json`));
  });

  it("keeps layout, modes, titles, colours, collapsed flags, groups and notes", () => {
    const { graph, warnings } = editorToGraph(workflowFixture("features_editor.json"), cat);
    expect(warnings).toEqual([]);
    expect(graph.nodes["6"]).toMatchObject({ title: "Positive Prompt", pos: [460, 160], size: [400, 160], extra: { color: "#232", bgcolor: "#353" } });
    expect(graph.nodes["7"]?.collapsed).toBe(true);
    expect(graph.nodes["10"]?.mode).toBe(MODE_BYPASS);
    expect(graph.nodes["11"]?.mode).toBe(MODE_MUTED);
    expect(graph.nodes["20"]).toBeUndefined(); // the reroute is resolved away
    expect(graph.links[linkKey("6", "clip")]).toMatchObject({ from: "4", fromSlot: 1, type: "CLIP" });
    expect(graph.nodes["3"]?.values.seed).toBe(1234); // from the primitive node
    expect(graph.nodes["15"]?.values).toEqual({ image: "photo.png" });
    expect(graph.groups.map((g) => g.title)).toEqual(["Prompts", "Upscale"]);
    expect(graph.notes.length).toBe(2);
    expect(danglingLinks(graph)).toEqual([]);
  });

  it("round-trips through the editor format", () => {
    const { graph } = editorToGraph(workflowFixture("features_editor.json"), cat);
    const written = graphToEditor(graph, cat);
    expect(written.version).toBe(0.4);
    const again = editorToGraph(written, cat);
    expect(again.warnings).toEqual([]);
    expect(again.graph.nodes).toEqual(graph.nodes);
    expect(again.graph.links).toEqual(graph.links);
    expect(again.graph.groups.map((g) => [g.title, g.bounds])).toEqual(graph.groups.map((g) => [g.title, g.bounds]));
    expect(again.graph.notes.length).toBe(2);
    const seedControl = (written.nodes as { id: number; widgets_values?: unknown[] }[]).find((n) => n.id === 3)?.widgets_values;
    expect(seedControl?.slice(0, 2)).toEqual([1234, "fixed"]);
  });

  it("warns about dangling links and names structural problems", () => {
    const { graph, warnings } = editorToGraph({ nodes: [{ id: 2, type: "PreviewImage", inputs: [{ name: "images", type: "IMAGE", link: 5 }] }], links: [] }, cat);
    expect(graph.links).toEqual({});
    expect(warnings[0]).toMatch(/link 5 is not in the links table/);
    expect(() => editorToGraph({ nodes: [{ type: "X" }, 3], links: [[1]] }, cat)).toThrow(EditorFormatError);
  });

  it("reads schema 1 link objects", () => {
    const { graph } = editorToGraph(
      { version: 1, nodes: [{ id: 1, type: "EmptyImage", widgets_values: [8, 8, 1, 0] }, { id: 2, type: "PreviewImage", inputs: [{ name: "images", type: "IMAGE", link: 7 }] }], links: [{ id: 7, origin_id: 1, origin_slot: 0, target_id: 2, target_slot: 0, type: "IMAGE" }] },
      cat,
    );
    expect(graphToApi(graph, cat)["2"]).toEqual({ class_type: "PreviewImage", inputs: { images: ["1", 0] }, _meta: { title: "Preview Image" } });
  });
});

describe("ComfyUI API format", () => {
  it("reads a prompt, lays it out by depth, and writes the same prompt back", () => {
    const prompt = workflowFixture("txt2img_api.json") as Record<string, unknown>;
    const graph = apiToGraph(prompt, cat);
    expect(graphToApi(graph, cat)).toEqual(prompt);
    const x = (id: string): number => graph.nodes[id]?.pos[0] ?? -1;
    expect(x("4")).toBe(50); // the checkpoint loader has no inputs: first column
    expect(x("3")).toBeGreaterThan(x("6")); // the sampler is right of the prompt that feeds it
  });

  it("drops muted nodes and routes links around bypassed ones when exporting", () => {
    const { graph } = editorToGraph(workflowFixture("features_editor.json"), cat);
    const api = graphToApi(graph, cat) as Record<string, { inputs: Record<string, unknown> }>;
    expect(api["10"]).toBeUndefined();
    expect(api["11"]).toBeUndefined();
    expect(api["9"]?.inputs.images).toEqual(["8", 0]);
  });

  it("names a link to a node the prompt does not have", () => {
    expect(() => apiToGraph({ "1": { class_type: "VAEDecode", inputs: { samples: ["9", 0] } } }, cat)).toThrow(/links to node 9/);
  });
});

describe("rxgen documents", () => {
  it("round-trips the graph with its layout and modes", () => {
    const { graph } = editorToGraph(workflowFixture("features_editor.json"), cat);
    const doc = graphToDocument(graph, cat);
    expect(doc.format).toBe("rxgen.workflow");
    const layout = doc.layout as Record<string, Record<string, unknown>>;
    expect(layout["10"]?.mode).toBe(MODE_BYPASS);
    expect(layout["6"]).toMatchObject({ title: "Positive Prompt", color: "#232" });
    expect((doc.graph as Record<string, unknown>)["11"]).toBeDefined(); // muted nodes are kept
    const back = documentToGraph(JSON.parse(JSON.stringify(doc)), cat);
    expect(back.nodes).toEqual(graph.nodes);
    expect(back.links).toEqual(graph.links);
    expect(back.groups.map((g) => g.bounds)).toEqual(graph.groups.map((g) => g.bounds));
    // Through the document and back out to the editor format, nothing of the graph is lost.
    const reread = editorToGraph(graphToEditor(back, cat), cat);
    expect(reread.graph.nodes).toEqual(graph.nodes);
    expect(reread.graph.links).toEqual(graph.links);
    const noteTexts = (notes: readonly unknown[]): unknown[] => notes.map((n) => [(n as { id: unknown }).id, (n as { widgets_values: unknown[] }).widgets_values[0]]);
    expect(noteTexts(reread.graph.notes)).toEqual(noteTexts(graph.notes));
  });
});

describe("detecting and importing", () => {
  it("tells the three formats apart and refuses a /prompt body", () => {
    expect(detectFormat({ format: "rxgen.workflow" })).toBe("rxgen");
    expect(detectFormat(workflowFixture("txt2img_editor.json"))).toBe("editor");
    expect(detectFormat(workflowFixture("txt2img_api.json"))).toBe("api");
    expect(() => detectFormat({ prompt: {}, client_id: "x" })).toThrow(/use the value of its 'prompt' field/);
    expect(() => detectFormat([])).toThrow(ImportError);
  });

  it("imports a JSON file of each format and exports each format", () => {
    const text = JSON.stringify(workflowFixture("txt2img_editor.json"));
    const imported = importFile("txt2img.json", text, cat);
    expect(imported.format).toBe("editor");
    for (const format of ["rxgen", "editor", "api"] as const) {
      const again = importWorkflow(JSON.parse(JSON.stringify(exportWorkflow(imported.graph, cat, format))), cat);
      expect(again.format).toBe(format);
      expect(graphToApi(again.graph, cat)).toEqual(graphToApi(imported.graph, cat));
    }
    expect(() => importFile("broken.json", "{nope", cat)).toThrow(/broken.json is not JSON/);
  });
});
