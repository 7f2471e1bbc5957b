// Small readers shared by the format converters.

import type { Json } from "../catalog";
import type { Vec2 } from "../model";

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A 2-vector from [x, y] or {"0": x, "1": y} (some editors store vectors that way). */
export function pair(value: unknown): Vec2 | null {
  const list = isRecord(value) ? [value["0"], value["1"]] : value;
  if (!Array.isArray(list) || list.length < 2) return null;
  const x = Number(list[0]);
  const y = Number(list[1]);
  return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
}

/** A note as an rxgen document stores it, from an editor note record or a document note. */
export function documentNote(raw: Json): Json {
  if (!isRecord(raw)) return { id: "note", text: "" };
  if (typeof raw.text === "string") return raw as Json;
  const values = raw.widgets_values;
  const text = Array.isArray(values) && typeof values[0] === "string" ? values[0] : "";
  const note: Record<string, Json> = { id: String(raw.id), text, type: typeof raw.type === "string" ? raw.type : "Note" };
  const pos = pair(raw.pos);
  const size = pair(raw.size);
  if (pos) note.pos = [pos[0], pos[1]];
  if (size) note.size = [size[0], size[1]];
  for (const key of ["title", "color", "bgcolor"]) if (typeof raw[key] === "string") note[key] = raw[key] as string;
  return note;
}

/** A note as a ComfyUI editor node record, from a document note or an editor record. */
export function editorNote(note: Json): Json {
  if (!isRecord(note) || typeof note.text !== "string") return note;
  const id = String(note.id);
  const record: Record<string, Json> = {
    id: /^\d+$/.test(id) ? Number(id) : id,
    type: typeof note.type === "string" ? note.type : "Note",
    pos: (note.pos as Json) ?? [0, 0],
    size: (note.size as Json) ?? [400, 200],
    flags: {},
    order: 0,
    mode: 0,
    properties: {},
    widgets_values: [note.text],
  };
  for (const key of ["title", "color", "bgcolor"]) if (typeof note[key] === "string") record[key] = note[key] as string;
  return record;
}
