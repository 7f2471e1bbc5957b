import { describe, expect, it } from "vitest";
import { buttonAction, canvasAction, fieldAction } from "./intent";

const field = (data: Record<string, string>, value = "", checked = false): { dataset: Record<string, string>; value: string; checked: boolean } => ({ dataset: data, value, checked });

describe("reading DOM events into actions", () => {
  it("reads a button's action", () => {
    expect(buttonAction({ dataset: { action: JSON.stringify({ type: "undo" }) } })).toEqual({ type: "undo" });
    expect(buttonAction({ dataset: {} })).toBeNull();
    expect(buttonAction({ dataset: { action: "{broken" } })).toBeNull();
  });

  it("reads widget values by their kind", () => {
    expect(fieldAction(field({ field: "value", node: "3", input: "steps", kind: "int" }, "25"))).toEqual({ type: "setValue", node: "3", input: "steps", value: 25 });
    expect(fieldAction(field({ field: "value", node: "3", input: "cfg", kind: "float" }, ""))).toEqual({ type: "showMessage", kind: "error", text: "cfg needs a number" });
    expect(fieldAction(field({ field: "value", node: "3", input: "tile", kind: "boolean" }, "on", true))).toEqual({ type: "setValue", node: "3", input: "tile", value: true });
    expect(fieldAction(field({ field: "value", node: "6", input: "text", kind: "string" }, "a cat"))).toEqual({ type: "setValue", node: "6", input: "text", value: "a cat" });
  });

  it("reads link choices, titles, modes and positions", () => {
    expect(fieldAction(field({ field: "link", node: "3", input: "model" }, "4:0"))).toEqual({ type: "connect", from: "4", slot: 0, to: "3", input: "model" });
    expect(fieldAction(field({ field: "link", node: "3", input: "model" }, ""))).toEqual({ type: "disconnect", to: "3", input: "model" });
    expect(fieldAction(field({ field: "title", node: "3", input: "" }, "Main sampler"))).toEqual({ type: "setTitle", node: "3", title: "Main sampler" });
    expect(fieldAction(field({ field: "mode", node: "3", input: "" }, "4"))).toEqual({ type: "setMode", node: "3", mode: 4 });
    expect(fieldAction(field({ field: "y", node: "3", input: "" }, "120"))).toEqual({ type: "setPosition", node: "3", y: 120 });
  });

  it("maps canvas intents", () => {
    expect(canvasAction({ kind: "resize", width: 800, height: 600 })).toEqual({ type: "canvasResized", width: 800, height: 600 });
    expect(canvasAction({ kind: "key", key: "Delete", ctrl: false, shift: false, alt: false })).toEqual({ type: "key", key: "Delete", ctrl: false, shift: false, alt: false });
    const p = { sx: 1, sy: 2, button: 0, shift: false, ctrl: false, alt: false, hit: { kind: "none" } as const };
    expect(canvasAction({ kind: "pointerdown", ...p })).toEqual({ type: "pointerDown", p });
    expect(canvasAction({ kind: "dblclick", ...p })).toEqual({ type: "doubleClick", p });
  });
});
