// Import and export in the three formats the server reads (components/workflow/formats.py
// detect_format): rxgen documents, ComfyUI editor workflows and ComfyUI API prompts; plus
// workflows carried by generated PNGs.

import type { Catalog, Json } from "../catalog";
import type { Graph } from "../model";
import { workflowFromPng } from "../png";
import { apiToGraph, graphToApi } from "./comfyApi";
import { isRecord } from "./common";
import { editorToGraph, graphToEditor } from "./comfyEditor";
import { documentToGraph, graphToDocument } from "./rxgen";

export type WorkflowFormat = "rxgen" | "editor" | "api";

export class ImportError extends Error {}

export function detectFormat(data: unknown): WorkflowFormat {
  if (!isRecord(data)) throw new ImportError("a workflow is a JSON object; save it from the editor or export it in ComfyUI's API format");
  if (data.format === "rxgen.workflow") return "rxgen";
  if (Array.isArray(data.nodes)) return "editor";
  if (isRecord(data.prompt) && "client_id" in data) throw new ImportError("this is a /prompt request body; use the value of its 'prompt' field as the workflow");
  return "api";
}

export interface Imported {
  readonly graph: Graph;
  readonly format: WorkflowFormat;
  readonly warnings: readonly string[];
}

/** Read any of the three formats into an editor graph. */
export function importWorkflow(data: unknown, catalog: Catalog | null): Imported {
  const format = detectFormat(data);
  if (format === "rxgen") return { graph: documentToGraph(data, catalog), format, warnings: [] };
  if (format === "editor") {
    const { graph, warnings } = editorToGraph(data, catalog);
    return { graph, format, warnings };
  }
  return { graph: apiToGraph(data, catalog), format, warnings: [] };
}

/** Read a JSON file's text or a PNG's bytes (the workflow it was made with). */
export function importFile(name: string, content: string | Uint8Array, catalog: Catalog | null): Imported {
  if (typeof content !== "string") {
    const carried = workflowFromPng(content);
    if (!carried) throw new ImportError(`${name} carries no workflow (it has no "workflow" or "prompt" text chunk)`);
    return importWorkflow(carried.workflow ?? carried.prompt, catalog);
  }
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (error) {
    throw new ImportError(`${name} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return importWorkflow(data, catalog);
}

export function exportWorkflow(graph: Graph, catalog: Catalog | null, format: WorkflowFormat): Record<string, Json> {
  if (format === "rxgen") return graphToDocument(graph, catalog);
  if (format === "editor") return graphToEditor(graph, catalog);
  return graphToApi(graph, catalog, true);
}
