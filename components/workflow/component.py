"""The executor as a component: job, node-runner and entropy events in; requests and job events out.

The decisions are :func:`components.workflow.executor.update`; this module only folds the
incoming events through it and routes each effect to its sink. The executor's state is also
reported as reducers on the ``state`` sink (named after the event that caused the change), so
the session log and the debugger see every transition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import ObserverBase, SchedulerBase

from components.nodes.catalog import Catalog
from components.workflow.executor import ExecutorState, update
from components.workflow.protocol import JobEvent, ReleaseJob, RunNode
from rxcore.driver import Cancel
from rxcore.effects import Draw
from rxcore.state import Reducer

Step = tuple[ExecutorState, list[Any], Any]


def _spread(steps: Observable[Step]) -> Observable[Any]:
    """Each step's effects, one by one, synchronously and in order."""

    def subscribe(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> Any:
        def on_step(step: Step) -> None:
            for effect in step[1]:
                observer.on_next(effect)

        return steps.subscribe(on_step, observer.on_error, observer.on_completed)

    return reactivex.create(subscribe)


def _setter(state: ExecutorState, cause: Any) -> Reducer[Any]:
    def set_state(_: Any) -> ExecutorState:
        return state

    return Reducer(f"executor/{type(cause).__name__}", set_state)


def _reducer_for(step: Step) -> Reducer[Any]:
    return _setter(step[0], step[2])


def _of(*types: type) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, types)


def executor(
    catalog: Catalog,
    *,
    jobs: str = "jobs",
    nodes: str = "nodes",
    entropy: str = "entropy",
    events: str = "events",
    state: str = "state",
) -> Callable[[Mapping[str, Any]], dict[str, Observable[Any]]]:
    """A component running jobs from ``sources[jobs]`` on the ``nodes`` driver."""

    def component(sources: Mapping[str, Any]) -> dict[str, Observable[Any]]:
        incoming = reactivex.merge(
            sources[jobs].events(), sources[nodes].events(), sources[entropy].events()
        )
        seed: Step = (ExecutorState(), [], None)

        def fold(previous: Step, event: Any) -> Step:
            new_state, effects = update(previous[0], event, catalog)
            return new_state, effects, event

        steps = incoming.pipe(ops.scan(fold, seed), ops.share())
        effects = _spread(steps).pipe(ops.share())
        return {
            nodes: effects.pipe(ops.filter(_of(RunNode, Cancel, ReleaseJob))),
            entropy: effects.pipe(ops.filter(_of(Draw))),
            events: effects.pipe(ops.filter(_of(JobEvent))),
            state: steps.pipe(ops.map(_reducer_for)),
        }

    return component
