"""The server's core: the job queue in front of the executor, as one pure transition.

Submitted jobs wait in the queue (priorities, per-user fairness); when the queue starts one, its
prompt goes to the executor; when the executor reports the job over, the queue frees its slot
and may start the next. Both halves are pure ``update`` functions, so their composition is one
too: an event is applied to the half it belongs to, and each effect that is meant for the other
half is applied to it in turn (a work list), until only effects for drivers are left. Keeping
the loop inside one transition (rather than through a driver and back) makes every decision
part of one recorded state change, which replay reproduces exactly.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from components import queue
from components.nodes.catalog import Catalog
from components.transition import run_transition
from components.workflow import executor
from components.workflow.protocol import (
    CancelJob,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobRejected,
    ReleaseJob,
    RunNode,
    SubmitJob,
)
from rxcore.driver import Cancel
from rxcore.effects import Draw
from rxcore.message import Message

_OVER = (JobFinished, JobFailed, JobCancelled, JobRejected)
QUEUE_EVENTS = (queue.Enqueue, queue.Cancel, queue.Clear, queue.Restore)
_QUEUE_INPUTS = (*QUEUE_EVENTS, queue.Started, queue.Finished)
# What the store driver persists: the queue's record of every change.
STORE_EFFECTS = (queue.Queued, queue.StartJob, queue.Requeued, queue.Removed, queue.Rejected)


@dataclass(frozen=True, kw_only=True)
class NewJob(Message):
    """A job submitted by a user: the queue entry plus what the executor needs to run it."""

    job: queue.Enqueue
    prompt: dict[str, Any]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pending:
    prompt: dict[str, Any]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class CoreState:
    queue: queue.QueueState = field(default_factory=queue.QueueState)
    executor: executor.ExecutorState = field(default_factory=executor.ExecutorState)
    prompts: dict[str, Pending] = field(default_factory=dict)  # queued and running jobs


def update(state: CoreState, event: Any, catalog: Catalog) -> tuple[CoreState, list[Any]]:
    """The new state and the effects for drivers after ``event``."""
    out: list[Any] = []
    work: deque[Any] = deque([event])
    while work:
        item = work.popleft()
        if isinstance(item, NewJob):
            pending = Pending(item.prompt, item.outputs)
            prompts = {**state.prompts, item.job.job_id: pending}
            state = dataclasses.replace(state, prompts=prompts)
            work.append(item.job)
        elif isinstance(item, _QUEUE_INPUTS):
            q, effects = queue.update(state.queue, item)
            state = dataclasses.replace(state, queue=q)
            work.extend(effects)
        elif isinstance(item, queue.StartJob):
            out.append(item)
            found = state.prompts.get(item.job_id)
            if found is not None:
                work.append(
                    SubmitJob(job_id=item.job_id, prompt=found.prompt, outputs=found.outputs)
                )
                work.append(queue.Started(job_id=item.job_id))
        elif isinstance(item, queue.CancelRunning):
            work.append(CancelJob(job_id=item.job_id))
        elif isinstance(item, queue.Removed):
            out.append(item)
            if item.reason != queue.FINISHED and item.job_id in state.prompts:
                state = _forget(state, item.job_id)
        elif isinstance(item, STORE_EFFECTS):
            out.append(item)
        elif isinstance(item, _OVER):
            out.append(item)
            state = _forget(state, item.job_id)
            work.append(queue.Finished(job_id=item.job_id))
        elif isinstance(item, JobEvent | RunNode | Cancel | ReleaseJob | Draw):
            out.append(item)
        else:
            ex, effects = executor.update(state.executor, item, catalog)
            state = dataclasses.replace(state, executor=ex)
            work.extend(effects)
    return state, out


def _forget(state: CoreState, job_id: str) -> CoreState:
    prompts = {k: v for k, v in state.prompts.items() if k != job_id}
    return dataclasses.replace(state, prompts=prompts)


# -- the component ---------------------------------------------------------------------------


def server_core(
    catalog: Catalog,
    *,
    intake: str = "intake",
    nodes: str = "nodes",
    entropy: str = "entropy",
    events: str = "events",
    store: str = "store",
    state: str = "state",
    initial: CoreState | None = None,
) -> Callable[[Mapping[str, Any]], dict[str, Observable[Any]]]:
    """Jobs from ``intake`` through the queue and the executor; effects to the named sinks."""

    def component(sources: Mapping[str, Any]) -> dict[str, Observable[Any]]:
        incoming = reactivex.merge(
            sources[intake].events(), sources[nodes].events(), sources[entropy].events()
        )
        run = run_transition(
            incoming, lambda s, e: update(s, e, catalog), initial or CoreState(), "core"
        )
        effects = run.effects
        return {
            nodes: effects.pipe(ops.filter(lambda e: isinstance(e, RunNode | Cancel | ReleaseJob))),
            entropy: effects.pipe(ops.filter(lambda e: isinstance(e, Draw))),
            events: effects.pipe(ops.filter(lambda e: isinstance(e, JobEvent))),
            store: effects.pipe(ops.filter(lambda e: isinstance(e, STORE_EFFECTS))),
            state: run.reducers,
        }

    return component
