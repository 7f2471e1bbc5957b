"""The executor's transitions: planning, parallel dispatch, caching, failures, cancellation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.nodes import default_catalog
from components.workflow.executor import ExecutorState, update
from components.workflow.protocol import (
    CancelJob,
    Evicted,
    InputsMissing,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    JobStarted,
    NodeDone,
    ReleaseJob,
    RunNode,
    SubmitJob,
)
from drivers.nodes.light_ops import LIGHT_OPS
from rxcore.driver import Cancel, Failed
from rxcore.effects import Draw, Drawn

CATALOG = default_catalog()


def prim(value: int) -> dict[str, Any]:
    return {"class_type": "PrimitiveInt", "inputs": {"value": value}}


def math(a: Any, b: Any, op: str = "add") -> dict[str, Any]:
    return {"class_type": "IntMath", "inputs": {"a": a, "b": b, "operation": op}}


class Harness:
    """Drives ``update`` like the runtime would, with a runner that computes light nodes."""

    def __init__(self) -> None:
        self.state = ExecutorState()
        self.store: dict[str, tuple[Any, ...]] = {}
        self.events: list[Any] = []
        self.executed: list[str] = []
        self.pending: list[RunNode] = []

    def send(self, event: Any) -> list[Any]:
        self.state, effects = update(self.state, event, CATALOG)
        self.events.extend(effects)
        self.pending.extend(e for e in effects if isinstance(e, RunNode))
        return effects

    def run_node(self, request: RunNode) -> None:
        self.pending.remove(request)
        inputs = {
            name: self.store[v.key][v.index] if hasattr(v, "key") else v
            for name, v in request.inputs.items()
        }
        outputs = LIGHT_OPS[request.node_type](inputs)
        self.store[request.key] = outputs
        self.executed.append(request.node_id)
        self.send(
            NodeDone(
                request_id=request.request_id,
                job_id=request.job_id,
                node_id=request.node_id,
                key=request.key,
                outputs=len(outputs),
            )
        )

    def run_all(self) -> None:
        while self.pending:
            self.run_node(self.pending[0])

    def result(self, job_id: str) -> Any:
        return next(
            e
            for e in self.events
            if isinstance(e, JobFinished | JobFailed | JobCancelled | JobRejected)
            and e.job_id == job_id
        )


CHAIN = {"1": prim(2), "2": math(["1", 0], 3), "3": math(["2", 0], 10, "mul")}


def test_chain_runs_in_order_and_finishes() -> None:
    h = Harness()
    first = h.send(SubmitJob(job_id="j", prompt=CHAIN, outputs=("3",)))
    assert [type(e).__name__ for e in first] == ["JobStarted", "NodeStarted", "RunNode"]
    h.run_all()
    assert h.executed == ["1", "2", "3"]
    assert isinstance(h.result("j"), JobFinished)
    assert ReleaseJob(job_id="j") in h.events
    key3 = next(e for e in h.events if isinstance(e, RunNode) and e.node_id == "3").key
    assert h.store[key3] == (50,)
    assert h.state.jobs == {}


def test_independent_branches_are_dispatched_together() -> None:
    h = Harness()
    prompt = {"1": prim(1), "2": prim(2), "3": math(["1", 0], ["2", 0])}
    effects = h.send(SubmitJob(job_id="j", prompt=prompt, outputs=("3",)))
    assert sorted(e.node_id for e in effects if isinstance(e, RunNode)) == ["1", "2"]


def test_resubmitting_runs_nothing_and_an_edit_reruns_only_downstream() -> None:
    h = Harness()
    h.send(SubmitJob(job_id="a", prompt=CHAIN, outputs=("3",)))
    h.run_all()
    h.executed.clear()
    h.send(SubmitJob(job_id="b", prompt=CHAIN, outputs=("3",)))
    assert isinstance(h.result("b"), JobFinished) and h.executed == []
    edited = {**CHAIN, "2": math(["1", 0], 4)}
    h.send(SubmitJob(job_id="c", prompt=edited, outputs=("3",)))
    started = next(e for e in h.events if isinstance(e, JobStarted) and e.job_id == "c")
    assert started.to_run == ("2", "3") and started.cached == ("1",)
    h.run_all()
    assert h.executed == ["2", "3"]


def test_failure_fails_only_what_depends_on_it() -> None:
    h = Harness()
    prompt = {
        "1": prim(1),
        "2": math(["1", 0], 0, "div"),  # fails: division by zero
        "3": math(["2", 0], 1),
        "4": math(["1", 0], 5),
    }
    h.send(SubmitJob(job_id="j", prompt=prompt, outputs=("3", "4")))
    while h.pending:
        request = h.pending[0]
        if request.node_id == "2":
            h.pending.remove(request)
            h.send(Failed(request_id=request.request_id, error="ZeroDivisionError", message="b=0"))
        else:
            h.run_node(request)
    result = h.result("j")
    assert isinstance(result, JobFailed)
    assert result.errors == {
        "2": "ZeroDivisionError: b=0",
        "3": "not run: upstream node 2 failed",
    }
    assert "4" in h.executed and set(result.outputs) == {"4"}


def test_cancel_mid_graph_cancels_running_work_and_keeps_finished_outputs() -> None:
    h = Harness()
    h.send(SubmitJob(job_id="j", prompt=CHAIN, outputs=("3",)))
    h.run_node(h.pending[0])  # node 1 finishes; node 2 is now running
    running = h.pending[0]
    effects = h.send(CancelJob(job_id="j"))
    assert Cancel(request_id=running.request_id) in effects
    assert isinstance(h.result("j"), JobCancelled)
    h.run_node(running)  # a late answer still fills the cache, and dispatches nothing
    assert not h.pending and h.state.jobs == {}
    assert running.key in h.state.cache


def test_rejects_invalid_prompts_with_every_problem() -> None:
    h = Harness()
    bad = {
        "1": {"class_type": "IntMath", "inputs": {"a": "x", "operation": "nope"}},
        "2": {"class_type": "Nope", "inputs": {}},
    }
    h.send(SubmitJob(job_id="j", prompt=bad, outputs=("1",)))
    rejected = h.result("j")
    assert isinstance(rejected, JobRejected)
    assert set(rejected.error["node_errors"]) >= {"1"}
    assert "b" in rejected.text and "operation" in rejected.text


def test_randomized_seed_is_drawn_from_entropy_before_planning() -> None:
    h = Harness()
    prompt = {
        "1": {"class_type": "Seed", "inputs": {"seed": 0, "control": "randomize"}},
        "2": math(["1", 0], 0),
    }
    effects = h.send(SubmitJob(job_id="j", prompt=prompt, outputs=("2",)))
    (draw,) = effects
    assert isinstance(draw, Draw)
    h.send(Drawn(request_id=draw.request_id, value=1234))
    h.run_all()
    key2 = next(e for e in h.events if isinstance(e, RunNode) and e.node_id == "2").key
    assert h.store[key2] == (1234,)


def test_evicted_inputs_are_recomputed() -> None:
    h = Harness()
    h.send(SubmitJob(job_id="a", prompt=CHAIN, outputs=("3",)))
    h.run_all()
    keys = {e.node_id: e.key for e in h.events if isinstance(e, RunNode)}
    h.send(Evicted(keys=(keys["3"],)))
    h.executed.clear()
    # The store lost node 2's output too, but the executor only learns it from the runner.
    edited = {**CHAIN, "3": math(["2", 0], 7, "mul")}
    h.send(SubmitJob(job_id="b", prompt=edited, outputs=("3",)))
    request = h.pending.pop()
    assert request.node_id == "3"
    h.send(InputsMissing(request_id=request.request_id, job_id="b", node_id="3", keys=(keys["2"],)))
    h.run_all()
    assert h.executed == ["2", "3"]
    assert isinstance(h.result("b"), JobFinished)


# -- the incremental property ----------------------------------------------------------------
@st.composite
def dags(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    count = draw(st.integers(2, 10))
    prompt: dict[str, dict[str, Any]] = {"1": prim(draw(st.integers(-5, 5)))}
    for i in range(2, count + 1):

        def operand(i: int = i) -> Any:
            if draw(st.booleans()):
                return [str(draw(st.integers(1, i - 1))), 0]
            return draw(st.integers(-5, 5))

        if draw(st.integers(0, 3)) == 0:
            prompt[str(i)] = prim(draw(st.integers(-5, 5)))
        else:
            op = draw(st.sampled_from(["add", "sub", "mul", "max", "min"]))
            prompt[str(i)] = math(operand(), operand(), op)
    return prompt


def run_job(
    h: Harness, job: str, prompt: Mapping[str, Any], wanted: tuple[str, ...]
) -> dict[str, Any]:
    from components.workflow.comfy_api import api_to_graph
    from components.workflow.keys import graph_keys

    h.send(SubmitJob(job_id=job, prompt=dict(prompt), outputs=wanted))
    h.run_all()
    assert isinstance(h.result(job), JobFinished)
    graph = api_to_graph(prompt)
    keys = graph_keys(graph, CATALOG, graph.ancestors(wanted, include_roots=True))
    return {node: h.store[keys[node]] for node in wanted}


@settings(max_examples=60, deadline=None)
@given(prompt=dags(), data=st.data())
def test_incremental_runs_equal_full_runs_and_execute_exactly_the_affected_nodes(
    prompt: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    from components.workflow.comfy_api import api_to_graph
    from components.workflow.keys import graph_keys

    ids = sorted(prompt, key=int)
    wanted = tuple(sorted(set(data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3)))))
    incremental = Harness()
    run_job(incremental, "first", prompt, wanted)

    edited = dict(prompt)
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(ids))
        node = edited[target]
        name = "value" if node["class_type"] == "PrimitiveInt" else data.draw(st.sampled_from("ab"))
        if isinstance(node["inputs"][name], list):
            continue
        edited[target] = {**node, "inputs": {**node["inputs"], name: data.draw(st.integers(-5, 5))}}

    cache_before = set(incremental.state.cache)
    incremental.executed.clear()
    got = run_job(incremental, "second", edited, wanted)
    full = run_job(Harness(), "full", edited, wanted)
    assert got == full

    graph = api_to_graph(edited)
    needed = graph.ancestors(wanted, include_roots=True)
    keys = graph_keys(graph, CATALOG, needed)
    affected = {n for n in needed if keys[n] not in cache_before}
    assert sorted(incremental.executed, key=int) == sorted(affected, key=int)
