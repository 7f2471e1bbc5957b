// ComfyUI editor widget values: naming a node's positional `widgets_values`, and writing them
// back. The same rules as the server's components/workflow/comfy_editor_widgets.py: some widgets
// are followed by an extra stored value that is not an input (a seed's control_after_generate,
// an upload button's value).

import { type InputDef, type Json, type NodeTypeDef, declaredDefault, widgetInputs } from "../catalog";

const SEED_CONTROL_VALUES: ReadonlySet<unknown> = new Set(["fixed", "increment", "decrement", "randomize"]);
// Old editors stored a control value after any INT widget with these names (a format quirk).
const SEED_NAMES: ReadonlySet<string> = new Set(["seed", "noise_seed"]);
const UPLOAD_VALUE = "image";

export const hasControl = (spec: InputDef): boolean => spec.controlAfterGenerate || (spec.type === "INT" && SEED_NAMES.has(spec.name));
export const isControl = (value: unknown): boolean => typeof value === "boolean" || SEED_CONTROL_VALUES.has(value);

/** Values by input name and the widget controls, from a node's stored widgets_values. */
export function readWidgetValues(
  where: string,
  def: NodeTypeDef,
  raw: unknown,
  warnings: string[],
): { values: Record<string, Json>; controls: Record<string, Json> } {
  const specs = widgetInputs(def);
  const values: Record<string, Json> = {};
  const controls: Record<string, Json> = {};
  if (raw === undefined || raw === null) raw = [];
  if (typeof raw === "object" && !Array.isArray(raw)) {
    const byName = raw as Record<string, Json>; // some node packs store widget values by name
    for (const spec of specs) if (spec.name in byName) values[spec.name] = byName[spec.name] as Json;
    return { values, controls };
  }
  if (!Array.isArray(raw)) {
    warnings.push(`${where}: widgets_values is not a list; widget values ignored`);
    return { values, controls };
  }
  let position = 0;
  specs.forEach((spec, index) => {
    if (position >= raw.length) {
      const fallback = declaredDefault(spec);
      warnings.push(`${where}: no stored value for widget "${spec.name}"; using its default ${JSON.stringify(fallback ?? null)}`);
      if (fallback !== undefined && fallback !== null) values[spec.name] = fallback;
      return;
    }
    values[spec.name] = raw[position] as Json;
    position += 1;
    let spare = raw.length - position - (specs.length - index - 1);
    if (hasControl(spec) && spare > 0 && isControl(raw[position])) {
      controls[spec.name] = raw[position] as Json;
      position += 1;
      spare -= 1;
    }
    if (spec.imageUpload && spare > 0) position += 1;
  });
  if (position < raw.length) {
    warnings.push(`${where}: ${raw.length - position} extra widget value(s) ignored; the workflow may come from a newer version of this node`);
  }
  return { values, controls };
}

/** A node's widgets_values in editor order, with the extra values the editor expects. */
export function writeWidgetValues(def: NodeTypeDef, values: Readonly<Record<string, Json>>, linked: ReadonlySet<string>, controls: Readonly<Record<string, Json>>): Json[] {
  const out: Json[] = [];
  for (const spec of widgetInputs(def)) {
    const value = linked.has(spec.name) ? undefined : values[spec.name];
    out.push(value === undefined ? (declaredDefault(spec) ?? null) : value);
    if (hasControl(spec) && (spec.controlAfterGenerate || spec.name in controls)) out.push(controls[spec.name] ?? "fixed");
    if (spec.imageUpload) out.push(UPLOAD_VALUE);
  }
  return out;
}
