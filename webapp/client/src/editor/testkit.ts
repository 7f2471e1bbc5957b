// Test helpers: the real catalog the server serves (testdata/object_info.json, written from
// components/nodes by `Catalog.to_object_info`), the repository's workflow fixtures (the ones the
// server's own tests read), and PNGs written by Pillow the way SaveImage writes them.

import type { PointerInfo } from "./actions";
import { type Catalog, parseCatalog } from "./catalog";
import type { Hit } from "./geometry";
import objectInfoText from "./testdata/object_info.json?raw";

const fixtures = import.meta.glob<string>("../../../../tests/components/workflow/fixtures/*.json", { query: "?raw", import: "default", eager: true });
const pngs = import.meta.glob<string>("./testdata/*.png", { query: "?inline", import: "default", eager: true });

export const objectInfo = (): unknown => JSON.parse(objectInfoText);

export function workflowFixture(name: string): unknown {
  const text = fixtures[`../../../../tests/components/workflow/fixtures/${name}`];
  if (text === undefined) throw new Error(`no fixture ${name} in tests/components/workflow/fixtures`);
  return JSON.parse(text);
}

export function testdata(name: string): Uint8Array {
  const url = pngs[`./testdata/${name}`];
  if (url === undefined) throw new Error(`no PNG ${name} in src/editor/testdata`);
  const binary = atob(url.slice(url.indexOf(",") + 1));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function catalog(): Catalog {
  return parseCatalog({ nodes: objectInfo(), types: { MODEL: { color: "#b39ddb" }, IMAGE: { color: "#64b5f6" } } });
}

export function pointerAt(sx: number, sy: number, hit: Hit, extra: Partial<PointerInfo> = {}): PointerInfo {
  return { sx, sy, button: 0, shift: false, ctrl: false, alt: false, hit, ...extra };
}
