// Intents: DOM events and canvas intents read into Actions. Reading an event's target is all
// that happens here; what an action does is the reducer's business.

import type { MainDOMSource } from "@cycle/dom";
import xs, { type Stream } from "xstream";
import type { Action, PointerInfo } from "./actions";
import type { CanvasIntent } from "./canvasDriver";

type Target = HTMLElement & { value?: string; checked?: boolean };
const owner = (event: Event): Target => ((event as Event & { ownerTarget?: Target }).ownerTarget ?? event.target) as Target;

/** The action a `data-action` button carries. */
export function buttonAction(element: { dataset: DOMStringMap }): Action | null {
  const raw = element.dataset.action;
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Action;
  } catch {
    return null;
  }
}

/** The action a changed form field means (see nodeForm.ts for the data attributes). */
export function fieldAction(field: { dataset: DOMStringMap; value?: string; checked?: boolean }): Action | null {
  const node = field.dataset.node ?? "";
  const input = field.dataset.input ?? "";
  const value = field.value ?? "";
  switch (field.dataset.field) {
    case "value": {
      const kind = field.dataset.kind;
      if (kind === "boolean") return { type: "setValue", node, input, value: field.checked === true };
      if (kind === "int" || kind === "float" || kind === "number") {
        const number = value.trim() === "" ? Number.NaN : Number(value);
        if (!Number.isFinite(number)) return { type: "showMessage", kind: "error", text: `${input} needs a number` };
        return { type: "setValue", node, input, value: number };
      }
      return { type: "setValue", node, input, value };
    }
    case "link": {
      if (value === "") return { type: "disconnect", to: node, input };
      const cut = value.lastIndexOf(":");
      return { type: "connect", from: value.slice(0, cut), slot: Number(value.slice(cut + 1)), to: node, input };
    }
    case "title":
      return { type: "setTitle", node, title: value };
    case "mode":
      return { type: "setMode", node, mode: Number(value) };
    case "x":
    case "y": {
      const number = Number(value);
      if (value.trim() === "" || !Number.isFinite(number)) return { type: "showMessage", kind: "error", text: "a position needs a number" };
      return field.dataset.field === "x" ? { type: "setPosition", node, x: number } : { type: "setPosition", node, y: number };
    }
    case "groupTitle":
      return { type: "renameGroup", group: node, title: value };
    default:
      return null;
  }
}

export function canvasAction(intent: CanvasIntent): Action {
  switch (intent.kind) {
    case "resize":
      return { type: "canvasResized", width: intent.width, height: intent.height };
    case "wheel":
      return { type: "wheel", sx: intent.sx, sy: intent.sy, dx: intent.dx, dy: intent.dy, ctrl: intent.ctrl };
    case "key":
      return { type: "key", key: intent.key, ctrl: intent.ctrl, shift: intent.shift, alt: intent.alt };
    default: {
      const p: PointerInfo = { sx: intent.sx, sy: intent.sy, button: intent.button, shift: intent.shift, ctrl: intent.ctrl, alt: intent.alt, hit: intent.hit };
      const type = intent.kind === "pointerdown" ? "pointerDown" : intent.kind === "pointermove" ? "pointerMove" : intent.kind === "pointerup" ? "pointerUp" : "doubleClick";
      return { type, p };
    }
  }
}

const notNull = <T>(value: T | null): value is T => value !== null;

export function domActions(dom: MainDOMSource): Stream<Action> {
  const buttons = dom.select(".rx-act").events("click").map((e) => buttonAction(owner(e))).filter(notNull);
  const fields = dom.select(".rx-field").events("change").map((e) => fieldAction(owner(e))).filter(notNull);
  const search = dom.select(".rx-ed-palette-search").events("input").map((e): Action => ({ type: "palette", open: true, query: owner(e).value ?? "" }));
  const searchKeys = dom
    .select(".rx-ed-palette-search")
    .events("keydown")
    .map((e): Action | null => {
      const key = (e as KeyboardEvent).key;
      if (key === "Enter") return { type: "paletteAccept" };
      if (key === "Escape") return { type: "palette", open: false };
      return null;
    })
    .filter(notNull);
  const add = dom
    .select(".rx-ed-add-button")
    .events("click")
    .map((e): Action | null => {
      const select = owner(e).parentElement?.querySelector("select.rx-ed-add-type") as HTMLSelectElement | null;
      return select && select.value ? { type: "addNode", nodeType: select.value } : null;
    })
    .filter(notNull);
  const presets = dom
    .select(".rx-ed-preset-form")
    .events("submit", { preventDefault: true })
    .map((e): Action | null => {
      const form = owner(e) as unknown as HTMLFormElement;
      const name = (form.elements.namedItem("name") as HTMLInputElement | null)?.value ?? "";
      const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
      return { type: "savePreset", name, whole: submitter?.value === "whole" };
    })
    .filter(notNull);
  const saveNamed = dom
    .select(".rx-ed-save-form")
    .events("submit", { preventDefault: true })
    .map((e): Action => {
      const form = owner(e) as unknown as HTMLFormElement;
      return { type: "saveNamed", name: (form.elements.namedItem("name") as HTMLInputElement | null)?.value ?? "" };
    });
  const dialogKeys = dom
    .select(".rx-ed-dialog")
    .events("keydown")
    .filter((e) => (e as KeyboardEvent).key === "Escape")
    .mapTo<Action>({ type: "closeSavedDialog" });
  return xs.merge(buttons, fields, search, searchKeys, add, presets, saveNamed, dialogKeys);
}
