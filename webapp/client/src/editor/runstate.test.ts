import { describe, expect, it } from "vitest";
import { applyEvent, EARLY_LIMIT, eventType, parseNodeErrors, runAccepted, runSubmitted, serverEvent } from "./runstate";
import { idleRun, initialState, type RunState } from "./state";

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

  it("keeps the events that beat the submission's answer and replays those of its job", () => {
    // A fully cached job can finish before POST /api/jobs answers.
    let state = runSubmitted(initialState());
    const early = [
      { ...job("JobStarted", { to_run: ["9"], cached: [] }), job_id: "other" },
      job("JobStarted", { to_run: [], cached: ["1", "2", "3"] }),
      job("NodeCached", { node_ids: ["1", "2", "3"] }),
      job("JobFinished", { outputs: {} }),
    ];
    for (const e of early) state = serverEvent(state, e);
    expect(state.run.status).toBe("submitting");
    expect(state.run.early).toHaveLength(4);
    const accepted = runAccepted(state, "j1");
    expect(accepted.run).toMatchObject({ jobId: "j1", status: "finished", cached: ["1", "2", "3"], early: [] });
    expect(accepted.message).toEqual({ kind: "info", text: "job j1 finished" });
    // Without early events the run simply waits in the queue.
    expect(runAccepted(runSubmitted(initialState()), "j2").run).toMatchObject({ jobId: "j2", status: "queued" });
  });

  it("bounds the events it keeps while submitting", () => {
    let run: RunState = { ...idleRun, status: "submitting" };
    for (let i = 0; i < EARLY_LIMIT + 10; i += 1) run = applyEvent(run, { ...job("NodeStarted", { node_id: String(i) }), job_id: `x${i}` });
    expect(run.early).toHaveLength(EARLY_LIMIT);
    expect(run.early[0]?.job_id).toBe("x10");
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
