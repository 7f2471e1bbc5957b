import { describe, expect, it } from "vitest";
import { applyEvent, eventType, parseNodeErrors } from "./runstate";
import { idleRun, type RunState } from "./state";

const job = (type: string, fields: Record<string, unknown> = {}): Record<string, unknown> => ({ $t: `components.workflow.protocol:${type}`, job_id: "j1", ...fields });

describe("run state from server events", () => {
  it("reads the class name from $t, __type__ or type", () => {
    expect(eventType({ $t: "components.workflow.protocol:NodeStarted" })).toBe("NodeStarted");
    expect(eventType({ $t: "components.workflow.protocol.NodeCached" })).toBe("NodeCached");
    expect(eventType({ __type__: "JobFinished" })).toBe("JobFinished");
    expect(eventType({ type: "JobProgress" })).toBe("JobProgress");
  });

  it("folds a job's events into ran, cached, current node and per-node progress", () => {
    const events = [
      job("JobStarted", { to_run: ["3", "8", "9"], cached: ["4"] }),
      job("NodeCached", { node_ids: ["5"] }),
      job("NodeStarted", { node_id: "3" }),
      job("JobProgress", { done: 0, total: 3, node_id: "3", node_value: 4, node_max: 20 }),
      job("JobProgress", { done: 0, total: 3, node_id: "3", node_value: 8, node_max: 20 }),
      { ...job("NodeStarted", { node_id: "99" }), job_id: "someone-else" },
    ];
    let run: RunState = { ...idleRun, jobId: "j1", status: "queued" };
    for (const e of events) run = applyEvent(run, e);
    expect(run).toMatchObject({ status: "running", current: "3", cached: ["4", "5"], total: 3, progress: { "3": [8, 20] } });
    run = applyEvent(run, job("NodeExecuted", { node_id: "3", ui: {} }));
    run = applyEvent(run, job("NodeFinished", { node_id: "8" }));
    expect(run.ran).toEqual(["3", "8"]);
    expect(run.current).toBeNull();
    run = applyEvent(run, job("JobFailed", { errors: { "9": "out of memory" }, outputs: {} }));
    expect(run.status).toBe("failed");
    expect(run.failed).toEqual({ "9": "out of memory" });
  });

  it("ignores events when no job of this editor runs", () => {
    expect(applyEvent(idleRun, job("NodeStarted", { node_id: "1" }))).toBe(idleRun);
  });
});

describe("validation errors", () => {
  it("keys node_errors by node and input", () => {
    const parsed = parseNodeErrors({
      "3": {
        errors: [
          { type: "value_too_big", message: "Value 20000 bigger than max of 10000", details: "steps", extra_info: { input_name: "steps" } },
          { type: "required_input_missing", message: "Required input is missing", details: "", extra_info: { input_name: "model" } },
          { type: "bad", message: "Node is broken", details: "", extra_info: {} },
        ],
        dependent_outputs: ["9"],
        class_type: "KSampler",
      },
    });
    expect(parsed).toEqual({ "3": { node: ["Node is broken"], inputs: { steps: ["Value 20000 bigger than max of 10000: steps"], model: ["Required input is missing"] } } });
    expect(parseNodeErrors(null)).toEqual({});
  });
});
