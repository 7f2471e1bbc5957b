// Run state from the server: which nodes ran, came from cache, failed, and each node's progress
// (events from /api/ws, components/workflow/protocol.py), and validation errors (node_errors of
// a rejected POST /api/jobs, keyed by node id, each error naming its input in extra_info).

import type { EditorState, NodeErrors, RunState } from "./state";
import { idleRun } from "./state";

/** The event's class name: rxgen's plain form carries it as "$t" (a dotted path) or "__type__". */
export function eventType(event: Readonly<Record<string, unknown>>): string {
  const raw = event.$t ?? event.__type__ ?? event.type;
  if (typeof raw !== "string") return "";
  return raw.split(":").pop()?.split(".").pop() ?? "";
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
const addUnique = (list: readonly string[], ids: readonly string[]): readonly string[] => {
  const fresh = ids.filter((id) => !list.includes(id));
  return fresh.length === 0 ? list : [...list, ...fresh];
};

/** At most this many events wait for a submission's answer (other users' jobs count too). */
export const EARLY_LIMIT = 500;

/** Fold one server event into the run state; events of other jobs leave it as it is. While the
 * run is being submitted (no job id yet), job events are kept to be replayed by runAccepted. */
export function applyEvent(run: RunState, event: Readonly<Record<string, unknown>>): RunState {
  if (run.status === "submitting" && run.jobId === null) {
    return typeof event.job_id === "string" ? { ...run, early: [...run.early, event].slice(-EARLY_LIMIT) } : run;
  }
  if (run.jobId === null || event.job_id !== run.jobId) return run;
  const nodeId = typeof event.node_id === "string" ? event.node_id : null;
  switch (eventType(event)) {
    case "JobQueued":
      return { ...run, status: "queued" };
    case "JobStarted":
      return { ...run, status: "running", cached: addUnique(run.cached, strings(event.cached)), total: strings(event.to_run).length };
    case "NodeStarted":
      return nodeId ? { ...run, status: "running", current: nodeId } : run;
    case "NodeCached":
      return { ...run, cached: addUnique(run.cached, [...strings(event.node_ids), ...(nodeId ? [nodeId] : [])]) };
    case "NodeExecuted":
    case "NodeFinished":
      return nodeId ? { ...run, ran: addUnique(run.ran, [nodeId]), current: run.current === nodeId ? null : run.current } : run;
    case "NodeFailed":
      return nodeId ? { ...run, failed: { ...run.failed, [nodeId]: String(event.message ?? event.error ?? "failed") } } : run;
    case "JobProgress": {
      const next = { ...run, done: Number(event.done ?? run.done), total: Number(event.total ?? run.total) };
      const max = Number(event.node_max ?? 0);
      if (!nodeId || !(max > 0)) return next;
      return { ...next, progress: { ...run.progress, [nodeId]: [Number(event.node_value ?? 0), max] } };
    }
    case "JobFinished":
      return { ...run, status: "finished", current: null };
    case "JobFailed": {
      const errors = typeof event.errors === "object" && event.errors !== null ? (event.errors as Record<string, unknown>) : {};
      const failed = { ...run.failed };
      for (const [id, message] of Object.entries(errors)) failed[id] = String(message);
      return { ...run, status: "failed", current: null, failed };
    }
    case "JobCancelled":
      return { ...run, status: "cancelled", current: null };
    case "JobRejected":
      return { ...run, status: "rejected", current: null };
    default:
      return run;
  }
}

/** ComfyUI-style node_errors ({id: {errors: [{message, details, extra_info: {input_name}}]}}). */
export function parseNodeErrors(raw: unknown): NodeErrors {
  if (typeof raw !== "object" || raw === null) return {};
  const result: Record<string, { node: string[]; inputs: Record<string, string[]> }> = {};
  for (const [id, entry] of Object.entries(raw as Record<string, unknown>)) {
    const errors = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>).errors : null;
    const item = { node: [] as string[], inputs: {} as Record<string, string[]> };
    for (const e of Array.isArray(errors) ? errors : []) {
      if (typeof e !== "object" || e === null) continue;
      const err = e as Record<string, unknown>;
      const text = [err.message, err.details].filter((t) => typeof t === "string" && t).join(": ") || "invalid";
      const extra = typeof err.extra_info === "object" && err.extra_info !== null ? (err.extra_info as Record<string, unknown>) : {};
      const input = typeof extra.input_name === "string" ? extra.input_name : null;
      if (input) (item.inputs[input] ??= []).push(text);
      else item.node.push(text);
    }
    result[id] = item;
  }
  return result;
}

export function runSubmitted(state: EditorState): EditorState {
  return { ...state, run: { ...idleRun, status: "submitting" }, nodeErrors: {}, message: { kind: "info", text: "submitting the workflow…" } };
}

export function runAccepted(state: EditorState, jobId: string): EditorState {
  const queued: EditorState = { ...state, run: { ...idleRun, jobId, status: "queued" }, message: { kind: "info", text: `queued as job ${jobId}` } };
  return state.run.early.reduce(serverEvent, queued);
}

export function runRejected(state: EditorState, text: string, nodeErrors: NodeErrors): EditorState {
  const count = Object.keys(nodeErrors).length;
  const where = count > 0 ? ` (${count} node(s) have errors; they are marked in red)` : "";
  return { ...state, run: { ...idleRun, status: "rejected" }, nodeErrors, message: { kind: "error", text: `The server refused the workflow: ${text}${where}` } };
}

export function serverEvent(state: EditorState, event: Readonly<Record<string, unknown>>): EditorState {
  const run = applyEvent(state.run, event);
  if (run === state.run) return state;
  const ended = run.status !== state.run.status && ["finished", "failed", "cancelled"].includes(run.status);
  return ended ? { ...state, run, message: { kind: run.status === "failed" ? "error" : "info", text: `job ${run.jobId} ${run.status}` } } : { ...state, run };
}
