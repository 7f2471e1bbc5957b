"""The executor's decisions, as one pure transition: ``update(state, event) -> (state, effects)``.

A job is planned when it arrives (after any random seeds it needs have been drawn): every node
the wanted outputs depend on gets a cache key; nodes whose key the store holds are served from
it, and only the rest run, each as soon as all its inputs exist, as many at once as the graph
allows. A failing node fails the nodes below it and nothing else; a cancelled job cancels its
running nodes and keeps what already finished. Terminal jobs leave the state (history is kept
by whoever listens to the job events).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from components.nodes.catalog import Catalog
from components.workflow.comfy_api import api_to_graph, graph_to_api
from components.workflow.graph import Graph, Link, node_sort_key
from components.workflow.keys import graph_keys
from components.workflow.protocol import (
    CancelJob,
    Evicted,
    InputsMissing,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobRejected,
    JobStarted,
    NodeCached,
    NodeDone,
    NodeExecuted,
    NodeFailed,
    NodeProgress,
    NodeStarted,
    OutputRef,
    ReleaseJob,
    RunNode,
    SubmitJob,
)
from components.workflow.validate import validate
from rxcore.driver import Cancel, Cancelled, Failed
from rxcore.effects import Draw, Drawn

SEED_NODE = "Seed"
MAX_RECOVERIES = 3


@dataclass(frozen=True)
class CacheEntry:
    outputs: int
    ui: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRun:
    job_id: str
    prompt: dict[str, Any]  # API format, normalized by validation, seeds filled in
    wanted: tuple[str, ...]
    status: str = "seeding"  # seeding -> running
    keys: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    running: tuple[str, ...] = ()
    finished: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    recoveries: int = 0


@dataclass(frozen=True)
class ExecutorState:
    jobs: dict[str, JobRun] = field(default_factory=dict)
    cache: dict[str, CacheEntry] = field(default_factory=dict)
    requests: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (job, node)


Effects = list[Any]


def request_id(job_id: str, node_id: str) -> str:
    return f"{job_id}/{node_id}"


def update(state: ExecutorState, event: Any, catalog: Catalog) -> tuple[ExecutorState, Effects]:
    """The new state and the requests/events to emit after ``event``."""
    effects: Effects = []
    if isinstance(event, SubmitJob):
        state = _submit(state, event, catalog, effects)
    elif isinstance(event, Drawn):
        state = _seed_drawn(state, event, catalog, effects)
    elif isinstance(event, NodeDone):
        state = _node_done(state, event, catalog, effects)
    elif isinstance(event, NodeProgress):
        _node_progress(state, event, effects)
    elif isinstance(event, Failed):
        state = _node_failed(state, event, catalog, effects)
    elif isinstance(event, InputsMissing):
        state = _inputs_missing(state, event, catalog, effects)
    elif isinstance(event, Evicted):
        cache = {k: v for k, v in state.cache.items() if k not in set(event.keys)}
        state = dataclasses.replace(state, cache=cache)
    elif isinstance(event, CancelJob):
        state = _cancel(state, event.job_id, effects)
    elif isinstance(event, Cancelled):
        requests = {k: v for k, v in state.requests.items() if k != event.request_id}
        state = dataclasses.replace(state, requests=requests)
    return state, effects


# -- submission ------------------------------------------------------------------------------
def _submit(
    state: ExecutorState, event: SubmitJob, catalog: Catalog, effects: Effects
) -> ExecutorState:
    job_id = event.job_id
    if job_id in state.jobs:
        effects.append(_rejected(job_id, "duplicate_job", f"job {job_id!r} is already running"))
        return state
    try:
        graph = api_to_graph(event.prompt)
    except ValueError as error:
        effects.append(_rejected(job_id, "invalid_prompt", str(error)))
        return state
    missing = [o for o in event.outputs if o not in graph]
    if missing:
        effects.append(
            _rejected(job_id, "invalid_prompt", f"requested outputs {missing} are not nodes")
        )
        return state
    report = validate(graph, catalog)
    wanted = event.outputs or tuple(sorted(report.output_nodes, key=node_sort_key))
    needed = graph.ancestors(wanted, include_roots=True)
    blocking = [
        p
        for p in report.problems
        if (p.node_id is None and not (event.outputs and p.type.startswith("prompt_")))
        or (p.node_id is not None and p.node_id in needed)
    ]
    if blocking or not wanted:
        body = report.comfy_error_response() or _failed_validation(report.comfy_node_errors())
        effects.append(JobRejected(job_id=job_id, error=dict(body), text=report.format_text()))
        return state
    normalized = report.graph if report.graph is not None else graph
    seeds = tuple(
        node_id
        for node_id in sorted(needed, key=node_sort_key)
        if normalized.node(node_id).type == SEED_NODE
        and normalized.node(node_id).inputs.get("control") == "randomize"
    )
    job = JobRun(job_id, dict(graph_to_api(normalized)), tuple(wanted), seeds=seeds)
    for node_id in seeds:
        effects.append(Draw(request_id=_seed_request(job_id, node_id), bits=53))
    state = _with_job(state, job)
    return _start(state, job, catalog, effects) if not seeds else state


def _seed_request(job_id: str, node_id: str) -> str:
    return f"{job_id}/{node_id}/seed"


def _seed_drawn(
    state: ExecutorState, event: Drawn, catalog: Catalog, effects: Effects
) -> ExecutorState:
    for job in state.jobs.values():
        for node_id in job.seeds:
            if _seed_request(job.job_id, node_id) == event.request_id:
                prompt = dict(job.prompt)
                node = dict(prompt[node_id])
                node["inputs"] = {**node["inputs"], "seed": event.value}
                prompt[node_id] = node
                seeds = tuple(s for s in job.seeds if s != node_id)
                job = dataclasses.replace(job, prompt=prompt, seeds=seeds)
                state = _with_job(state, job)
                return state if seeds else _start(state, job, catalog, effects)
    return state


# -- planning --------------------------------------------------------------------------------
_parsed: dict[int, tuple[dict[str, Any], Graph]] = {}


def _graph(job: JobRun) -> Graph:
    """The job's graph, parsed once per prompt object (a job keeps the same dict throughout).

    A memo, not state: it is keyed by the prompt's identity and checked, so it returns exactly
    what parsing would, and is bounded so finished jobs' graphs do not pile up.
    """
    found = _parsed.get(id(job.prompt))
    if found is not None and found[0] is job.prompt:
        return found[1]
    graph = api_to_graph(job.prompt)
    if len(_parsed) >= 64:
        _parsed.clear()
    _parsed[id(job.prompt)] = (job.prompt, graph)
    return graph


def _required(graph: Graph, wanted: Iterable[str], available: set[str]) -> set[str]:
    """Nodes that must be present: the wanted ones, and whatever a node that must run needs."""
    required = set(wanted)
    for node_id in reversed(graph.topological_order()):
        if node_id in required and node_id not in available:
            required.update(link.node_id for _, link in graph.node(node_id).links())
    return required


def _start(state: ExecutorState, job: JobRun, catalog: Catalog, effects: Effects) -> ExecutorState:
    graph = _graph(job)
    keys = graph_keys(graph, catalog, graph.ancestors(job.wanted, include_roots=True))
    available = {n for n, k in keys.items() if k in state.cache}
    required = _required(graph, job.wanted, available)
    cached = _ordered(required & available)
    waiting = _ordered(required - available)
    job = dataclasses.replace(
        job,
        status="running",
        keys=keys,
        required=_ordered(required),
        cached=cached,
        waiting=waiting,
    )
    effects.append(JobStarted(job_id=job.job_id, to_run=waiting, cached=cached))
    if cached:
        effects.append(NodeCached(job_id=job.job_id, node_ids=cached))
    return _advance(_with_job(state, job), job, graph, effects)


def _advance(
    state: ExecutorState,
    job: JobRun,
    graph: Graph,
    effects: Effects,
    candidates: frozenset[str] | None = None,
) -> ExecutorState:
    """Dispatch every waiting node whose inputs all exist; finish the job when nothing is left.

    ``candidates``, when given, are the only nodes that can have become ready (the readers of a
    node that just finished): checking just those keeps a long job linear, not quadratic.
    """
    present = set(job.finished) | set(job.cached)
    ready = [
        node_id
        for node_id in job.waiting
        if (candidates is None or node_id in candidates)
        and all(link.node_id in present for _, link in graph.node(node_id).links())
    ]
    requests = dict(state.requests)
    for node_id in ready:
        node = graph.node(node_id)
        inputs: dict[str, Any] = {
            name: OutputRef(key=job.keys[value.node_id], index=value.output_index)
            if isinstance(value, Link)
            else value
            for name, value in node.inputs.items()
        }
        rid = request_id(job.job_id, node_id)
        requests[rid] = (job.job_id, node_id)
        effects.append(NodeStarted(job_id=job.job_id, node_id=node_id))
        effects.append(
            RunNode(
                request_id=rid,
                job_id=job.job_id,
                node_id=node_id,
                node_type=node.type,
                key=job.keys[node_id],
                inputs=inputs,
            )
        )
    if ready:
        job = dataclasses.replace(
            job,
            waiting=tuple(n for n in job.waiting if n not in ready),
            running=_ordered({*job.running, *ready}),
        )
    state = dataclasses.replace(state, requests=requests)
    if job.waiting or job.running:
        return _with_job(state, job)
    return _finish(state, job, effects)


def _finish(state: ExecutorState, job: JobRun, effects: Effects) -> ExecutorState:
    outputs = {
        node_id: state.cache[job.keys[node_id]].ui
        for node_id in job.wanted
        if node_id in job.keys and job.keys[node_id] in state.cache and node_id not in job.errors
    }
    if job.errors:
        effects.append(JobFailed(job_id=job.job_id, errors=dict(job.errors), outputs=outputs))
    else:
        effects.append(JobFinished(job_id=job.job_id, outputs=outputs))
    effects.append(ReleaseJob(job_id=job.job_id))
    jobs = {k: v for k, v in state.jobs.items() if k != job.job_id}
    return dataclasses.replace(state, jobs=jobs)


# -- node results ----------------------------------------------------------------------------
def _owner(state: ExecutorState, rid: str) -> tuple[JobRun, str] | None:
    found = state.requests.get(rid)
    if found is None or found[0] not in state.jobs:
        return None
    return state.jobs[found[0]], found[1]


def _forget(state: ExecutorState, rid: str) -> ExecutorState:
    return dataclasses.replace(
        state, requests={k: v for k, v in state.requests.items() if k != rid}
    )


def _node_done(
    state: ExecutorState, event: NodeDone, catalog: Catalog, effects: Effects
) -> ExecutorState:
    # Outputs stay available even when their job was cancelled meanwhile.
    cache = {**state.cache, event.key: CacheEntry(event.outputs, dict(event.ui))}
    owner = _owner(state, event.request_id)
    state = _forget(dataclasses.replace(state, cache=cache), event.request_id)
    if owner is None:
        return state
    job, node_id = owner
    job = dataclasses.replace(
        job,
        running=tuple(n for n in job.running if n != node_id),
        finished=(*job.finished, node_id),
    )
    effects.append(NodeExecuted(job_id=job.job_id, node_id=node_id, ui=dict(event.ui)))
    effects.append(_progress(job))
    graph = _graph(job)
    return _advance(_with_job(state, job), job, graph, effects, graph.downstream(node_id))


def _node_progress(state: ExecutorState, event: NodeProgress, effects: Effects) -> None:
    owner = _owner(state, event.request_id)
    if owner is None:
        return
    job, node_id = owner
    effects.append(
        dataclasses.replace(
            _progress(job),
            node_id=node_id,
            node_value=event.value,
            node_max=event.max,
            preview=event.preview,
        )
    )


def _progress(job: JobRun) -> JobProgress:
    return JobProgress(
        job_id=job.job_id, done=len(job.finished) + len(job.cached), total=len(job.required)
    )


def _node_failed(
    state: ExecutorState, event: Failed, catalog: Catalog, effects: Effects
) -> ExecutorState:
    owner = _owner(state, event.request_id)
    state = _forget(state, event.request_id)
    if owner is None:
        return state
    job, node_id = owner
    graph = _graph(job)
    errors = {**job.errors, node_id: f"{event.error}: {event.message}"}
    effects.append(
        NodeFailed(job_id=job.job_id, node_id=node_id, error=event.error, message=event.message)
    )
    below = graph.descendants([node_id]) & set(job.waiting)
    for skipped in _ordered(below):
        errors[skipped] = f"not run: upstream node {node_id} failed"
    job = dataclasses.replace(
        job,
        errors=errors,
        running=tuple(n for n in job.running if n != node_id),
        waiting=tuple(n for n in job.waiting if n not in below),
    )
    return _advance(_with_job(state, job), job, graph, effects)


def _inputs_missing(
    state: ExecutorState, event: InputsMissing, catalog: Catalog, effects: Effects
) -> ExecutorState:
    gone = set(event.keys)
    cache = {k: v for k, v in state.cache.items() if k not in gone}
    owner = _owner(state, event.request_id)
    state = _forget(dataclasses.replace(state, cache=cache), event.request_id)
    if owner is None:
        return state
    job, node_id = owner
    graph = _graph(job)
    if job.recoveries >= MAX_RECOVERIES:
        errors = {
            **job.errors,
            node_id: "its inputs were evicted from the output store before it could run, "
            f"{MAX_RECOVERIES} times; raise the store's byte budget",
        }
        job = dataclasses.replace(
            job, errors=errors, running=tuple(n for n in job.running if n != node_id)
        )
        return _advance(_with_job(state, job), job, graph, effects)
    # Re-plan what is still needed with what the store still holds.
    running = tuple(n for n in job.running if n != node_id)
    available = {n for n, key in job.keys.items() if key in state.cache}
    required = _required(graph, job.wanted, available | set(running))
    waiting = _ordered(required - available - set(running) - set(job.errors))
    finished = tuple(n for n in job.finished if n in available)
    job = dataclasses.replace(
        job,
        running=running,
        waiting=waiting,
        finished=finished,
        cached=_ordered((required & available) - set(finished)),
        required=_ordered(required | set(job.required)),
        recoveries=job.recoveries + 1,
    )
    return _advance(_with_job(state, job), job, graph, effects)


# -- cancellation ----------------------------------------------------------------------------
def _cancel(state: ExecutorState, job_id: str, effects: Effects) -> ExecutorState:
    job = state.jobs.get(job_id)
    if job is None:
        return state
    for node_id in job.running:
        effects.append(Cancel(request_id=request_id(job_id, node_id)))
    outputs = {
        n: state.cache[job.keys[n]].ui
        for n in job.wanted
        if n in job.keys and job.keys[n] in state.cache
    }
    effects.append(JobCancelled(job_id=job_id, outputs=outputs))
    effects.append(ReleaseJob(job_id=job_id))
    jobs = {k: v for k, v in state.jobs.items() if k != job_id}
    return dataclasses.replace(state, jobs=jobs)


# -- helpers ---------------------------------------------------------------------------------
def _with_job(state: ExecutorState, job: JobRun) -> ExecutorState:
    return dataclasses.replace(state, jobs={**state.jobs, job.job_id: job})


def _ordered(node_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(node_ids), key=node_sort_key))


def _failed_validation(node_errors: dict[str, Any]) -> dict[str, Any]:
    # ComfyUI would queue a prompt with some valid outputs; rxgen runs only whole requests.
    return {
        "error": {
            "type": "prompt_outputs_failed_validation",
            "message": "Prompt outputs failed validation",
            "details": "",
            "extra_info": {},
        },
        "node_errors": node_errors,
    }


def _rejected(job_id: str, kind: str, message: str) -> JobRejected:
    body: dict[str, Any] = {
        "error": {"type": kind, "message": message, "details": "", "extra_info": {}},
        "node_errors": {},
    }
    return JobRejected(job_id=job_id, error=body, text=message)
