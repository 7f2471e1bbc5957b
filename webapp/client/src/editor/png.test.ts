import { describe, expect, it } from "vitest";
import { importFile } from "./formats/index";
import { graphToApi } from "./formats/comfyApi";
import { PngError, readPngText, workflowFromPng } from "./png";
import { catalog, testdata, workflowFixture } from "./testkit";

// The fixtures were written by Pillow's PngInfo, as ComfyUI's SaveImage and rxgen write them.
describe("PNG text chunks", () => {
  it("reads the prompt and workflow a SaveImage-style PNG carries", () => {
    const texts = readPngText(testdata("comfy_saveimage.png"));
    expect(Object.keys(texts).sort()).toEqual(["prompt", "workflow"]);
    const carried = workflowFromPng(testdata("comfy_saveimage.png"));
    expect(carried?.workflow).toEqual(workflowFixture("txt2img_editor.json"));
    expect(carried?.prompt).toEqual(workflowFixture("txt2img_api.json"));
  });

  it("restores the workflow from a dropped PNG, preferring the editor workflow", () => {
    const cat = catalog();
    const imported = importFile("out.png", testdata("comfy_saveimage.png"), cat);
    expect(imported.format).toBe("editor");
    expect(graphToApi(imported.graph, cat)).toEqual(workflowFixture("txt2img_api.json"));
  });

  it("reads uncompressed iTXt chunks as UTF-8", () => {
    const carried = workflowFromPng(testdata("itxt_prompt_only.png"));
    expect(carried?.workflow).toBeNull();
    expect((carried?.prompt as Record<string, { _meta: { title: string } }>)["1"]?._meta.title).toBe("Émpty ✓");
  });

  it("says when a PNG carries nothing, and refuses what is not a PNG", () => {
    expect(workflowFromPng(testdata("plain.png"))).toBeNull();
    expect(() => importFile("plain.png", testdata("plain.png"), null)).toThrow(/carries no workflow/);
    expect(() => readPngText(new TextEncoder().encode("GIF89a..."))).toThrow(PngError);
    const truncated = testdata("comfy_saveimage.png").subarray(0, 100);
    expect(() => readPngText(truncated)).toThrow(/truncated/);
  });
});
