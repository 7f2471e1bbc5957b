// The node catalog as the editor uses it, read from the server's GET /api/nodes answer
// ({nodes: <ComfyUI object_info>, types: {TYPE: {color}}}). Everything the editor knows about
// node types comes from here; nothing about them is written into the client.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface InputDef {
  readonly name: string;
  /** Socket type; "COMBO" for a choice list (object_info writes the list in place of the type). */
  readonly type: string;
  readonly required: boolean;
  /** Edited in place when unlinked (INT, FLOAT, STRING, BOOLEAN, COMBO without forceInput). */
  readonly widget: boolean;
  readonly choices: readonly (string | number)[] | null;
  readonly default: Json | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly step: number | undefined;
  readonly round: number | undefined;
  readonly multiline: boolean;
  readonly forceInput: boolean;
  readonly controlAfterGenerate: boolean;
  readonly imageUpload: boolean;
  readonly tooltip: string | undefined;
}

export interface OutputDef {
  readonly name: string;
  readonly type: string;
  readonly isList: boolean;
}

export interface NodeTypeDef {
  readonly name: string;
  readonly displayName: string;
  readonly category: string;
  readonly description: string;
  readonly inputs: readonly InputDef[];
  readonly outputs: readonly OutputDef[];
  readonly outputNode: boolean;
  readonly deprecated: boolean;
}

export interface Catalog {
  readonly nodes: Readonly<Record<string, NodeTypeDef>>;
  /** Node type names sorted by category then display name: the palette's order. */
  readonly order: readonly string[];
  readonly typeColors: Readonly<Record<string, string>>;
}

export class CatalogError extends Error {}

// The value types an editor edits in place; a property of the type system, shared with the
// server's components/nodes/types.py WIDGET_TYPES, not of any node type.
const WIDGET_TYPES: ReadonlySet<string> = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const num = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined;

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);

/** Read a GET /api/nodes body ({nodes, types}) into a Catalog. */
export function parseCatalog(body: unknown): Catalog {
  if (!isRecord(body) || !isRecord(body.nodes)) {
    throw new CatalogError("the node catalog must be a JSON object {nodes: {...}, types: {...}} as GET /api/nodes answers");
  }
  const rawNodes = body.nodes;
  const rawTypes = isRecord(body.types) ? body.types : {};
  const nodes: Record<string, NodeTypeDef> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(rawNodes)) {
    try {
      nodes[name] = parseNodeType(name, raw);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0 && Object.keys(nodes).length === 0) {
    throw new CatalogError(`no node type could be read from the catalog: ${problems.join("; ")}`);
  }
  const typeColors: Record<string, string> = {};
  for (const [type, info] of Object.entries(rawTypes)) {
    if (isRecord(info) && typeof info.color === "string") typeColors[type] = info.color;
  }
  const order = Object.values(nodes)
    .sort((a, b) => a.category.localeCompare(b.category) || a.displayName.localeCompare(b.displayName))
    .map((def) => def.name);
  return { nodes, order, typeColors };
}

function parseNodeType(name: string, raw: unknown): NodeTypeDef {
  if (!isRecord(raw)) throw new CatalogError(`node type ${name}: expected an object`);
  const input = isRecord(raw.input) ? raw.input : {};
  const order = isRecord(raw.input_order) ? raw.input_order : {};
  const inputs: InputDef[] = [];
  for (const group of ["required", "optional"] as const) {
    const specs = isRecord(input[group]) ? (input[group] as Record<string, unknown>) : {};
    const listed = Array.isArray(order[group]) ? (order[group] as unknown[]).filter((n) => typeof n === "string") : [];
    const names = [...(listed as string[]), ...Object.keys(specs).filter((n) => !listed.includes(n))];
    for (const inputName of names) {
      if (inputName in specs) inputs.push(parseInput(name, inputName, specs[inputName], group === "required"));
    }
  }
  const outTypes = Array.isArray(raw.output) ? raw.output : [];
  const outNames = Array.isArray(raw.output_name) ? raw.output_name : [];
  const outLists = Array.isArray(raw.output_is_list) ? raw.output_is_list : [];
  const outputs: OutputDef[] = outTypes.map((type, index) => {
    const typeName = Array.isArray(type) ? "COMBO" : str(type, "*");
    return { type: typeName, name: str(outNames[index], typeName), isList: outLists[index] === true };
  });
  return {
    name,
    displayName: str(raw.display_name) || name,
    category: str(raw.category, "other"),
    description: str(raw.description),
    inputs,
    outputs,
    outputNode: raw.output_node === true,
    deprecated: raw.deprecated === true,
  };
}

function parseInput(nodeName: string, name: string, raw: unknown, required: boolean): InputDef {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new CatalogError(`node type ${nodeName} input ${name}: expected [type, options]`);
  }
  const head: unknown = raw[0];
  const options = isRecord(raw[1]) ? raw[1] : {};
  let type: string;
  let choices: (string | number)[] | null = null;
  if (Array.isArray(head)) {
    type = "COMBO";
    choices = head.filter((c): c is string | number => typeof c === "string" || typeof c === "number");
  } else {
    type = str(head, "*");
    if (type === "COMBO" && Array.isArray(options.options)) {
      choices = (options.options as unknown[]).filter(
        (c): c is string | number => typeof c === "string" || typeof c === "number",
      );
    }
  }
  const forceInput = options.forceInput === true;
  return {
    name,
    type,
    required,
    widget: WIDGET_TYPES.has(type) && !forceInput,
    choices,
    default: "default" in options ? (options.default as Json) : undefined,
    min: num(options.min),
    max: num(options.max),
    step: num(options.step),
    round: num(options.round),
    multiline: options.multiline === true,
    forceInput,
    controlAfterGenerate: options.control_after_generate === true,
    imageUpload: options.image_upload === true,
    tooltip: typeof options.tooltip === "string" ? options.tooltip : undefined,
  };
}

/** The declared default, or for a combo without one its first choice (as the server does). */
export function declaredDefault(spec: InputDef): Json | undefined {
  if (spec.default !== undefined) return spec.default;
  if (spec.choices && spec.choices.length > 0) return spec.choices[0];
  return undefined;
}

/** The value a new node's widget starts with: the declared default, else an empty value. */
export function effectiveDefault(spec: InputDef): Json | undefined {
  const declared = declaredDefault(spec);
  if (declared !== undefined) return declared;
  if (spec.type === "BOOLEAN") return false;
  if (spec.type === "STRING") return "";
  if (spec.type === "INT" || spec.type === "FLOAT") return spec.min !== undefined && spec.min > 0 ? spec.min : 0;
  return undefined;
}

export function widgetInputs(def: NodeTypeDef): InputDef[] {
  return def.inputs.filter((spec) => spec.widget);
}

export function findInput(def: NodeTypeDef, name: string): InputDef | undefined {
  return def.inputs.find((spec) => spec.name === name);
}

/** A type's colour: the catalog's, else one derived from the name so each type stays distinct. */
export function typeColor(catalog: Catalog | null, type: string): string {
  const known = catalog?.typeColors[type];
  if (known) return known;
  let hash = 0;
  for (let i = 0; i < type.length; i += 1) hash = (hash * 31 + type.charCodeAt(i)) | 0;
  return `hsl(${Math.abs(hash) % 360} 60% 58%)`;
}

/** Palette search: every word of the query must appear in the name, display name or category. */
export function searchCatalog(catalog: Catalog, query: string, limit = 200): NodeTypeDef[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found: NodeTypeDef[] = [];
  for (const name of catalog.order) {
    const def = catalog.nodes[name];
    if (!def) continue;
    const hay = `${def.displayName} ${def.name} ${def.category}`.toLowerCase();
    if (words.every((w) => hay.includes(w))) {
      found.push(def);
      if (found.length >= limit) break;
    }
  }
  // Names that start with the query first: typing "ksam" should put KSampler on top.
  if (words.length > 0) {
    const first = words[0] ?? "";
    const rank = (def: NodeTypeDef): number =>
      def.displayName.toLowerCase().startsWith(first) || def.name.toLowerCase().startsWith(first) ? 0 : 1;
    found.sort((a, b) => rank(a) - rank(b));
  }
  return found;
}
