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

from components.nodes.catalog import Catalog
from components.transition import run_transition
from components.workflow.executor import ExecutorState, update
from components.workflow.protocol import JobEvent, ReleaseJob, RunNode
from rxcore.driver import Cancel
from rxcore.effects import Draw


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
        run = run_transition(
            incoming, lambda s, e: update(s, e, catalog), ExecutorState(), "executor"
        )
        effects = run.effects
        return {
            nodes: effects.pipe(ops.filter(_of(RunNode, Cancel, ReleaseJob))),
            entropy: effects.pipe(ops.filter(_of(Draw))),
            events: effects.pipe(ops.filter(_of(JobEvent))),
            state: run.reducers,
        }

    return component
