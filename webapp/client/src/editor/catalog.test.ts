import { describe, expect, it } from "vitest";
import { CatalogError, effectiveDefault, findInput, parseCatalog, searchCatalog, typeColor } from "./catalog";
import { catalog, objectInfo } from "./testkit";
import { isCompatible } from "./types";

describe("parseCatalog", () => {
  const cat = catalog();

  it("reads inputs in input_order with widget flags, ranges and choices", () => {
    const ks = cat.nodes.KSampler;
    expect(ks?.inputs.map((i) => i.name)).toEqual(["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise"]);
    const seed = findInput(ks!, "seed")!;
    expect(seed.widget).toBe(true);
    expect(seed.controlAfterGenerate).toBe(true);
    const cfg = findInput(ks!, "cfg")!;
    expect([cfg.type, cfg.min, cfg.max, cfg.step, cfg.default]).toEqual(["FLOAT", 0, 100, 0.1, 8]);
    const sampler = findInput(ks!, "sampler_name")!;
    expect(sampler.type).toBe("COMBO");
    expect(sampler.choices).toContain("euler");
    expect(effectiveDefault(sampler)).toBe(sampler.choices?.[0]);
    expect(findInput(ks!, "model")?.widget).toBe(false);
    expect(ks?.outputs).toEqual([{ name: "LATENT", type: "LATENT", isList: false }]);
  });

  it("takes type colours from the types table and derives stable ones for the rest", () => {
    expect(typeColor(cat, "MODEL")).toBe("#b39ddb");
    expect(typeColor(cat, "LATENT")).toBe(typeColor(cat, "LATENT"));
    expect(typeColor(cat, "LATENT")).not.toBe(typeColor(cat, "CLIP"));
  });

  it("reads forceInput and the COMBO-with-options form", () => {
    const c = parseCatalog({ nodes: { N: { input: { required: { a: ["INT", { forceInput: true }], b: ["COMBO", { options: ["x", "y"] }] } }, output: ["INT"], name: "N" } } });
    const [a, b] = c.nodes.N!.inputs;
    expect(a?.widget).toBe(false);
    expect(b?.choices).toEqual(["x", "y"]);
    expect(b?.widget).toBe(true);
  });

  it("refuses a body that is not a catalog", () => {
    expect(() => parseCatalog([1, 2])).toThrow(CatalogError);
    expect(() => parseCatalog(objectInfo())).toThrow(/as GET \/api\/nodes answers/);
    expect(() => parseCatalog({ nodes: { A: 3, B: "x" } })).toThrow(/no node type could be read/);
  });

  it("searches by words, names starting with the query first", () => {
    const found = searchCatalog(cat, "ksam");
    expect(found[0]?.name).toMatch(/^KSampler/);
    expect(searchCatalog(cat, "load image").map((d) => d.name)).toContain("LoadImage");
    expect(searchCatalog(cat, "zzzz-nothing")).toEqual([]);
  });
});

describe("connection type rule", () => {
  it("matches equal types, the wildcard, unions and strings into combos", () => {
    expect(isCompatible("MODEL", "MODEL")).toBe(true);
    expect(isCompatible("MODEL", "CLIP")).toBe(false);
    expect(isCompatible("*", "CLIP")).toBe(true);
    expect(isCompatible("IMAGE", "*")).toBe(true);
    expect(isCompatible("INT", "INT,FLOAT")).toBe(true);
    expect(isCompatible("INT, FLOAT", "FLOAT")).toBe(true);
    expect(isCompatible("STRING", "INT,FLOAT")).toBe(false);
    expect(isCompatible("STRING", "COMBO")).toBe(true);
    expect(isCompatible("INT", "COMBO")).toBe(false);
    expect(isCompatible("COMBO", "STRING")).toBe(false);
  });
});
