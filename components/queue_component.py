"""The job queue as a component: queue events in, effects out on ``queue``, and the queue's
state as named reducers on ``state`` so the session log records every transition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import ObserverBase, SchedulerBase

from components.queue import Effects, QueueConfig, QueueEffect, QueueState, update
from rxcore.source import as_source
from rxcore.state import Reducer

Step = tuple[QueueState, Effects, Any]


def _setter(state: QueueState, cause: Any) -> Reducer[Any]:
    def set_state(_: Any) -> QueueState:
        return state

    return Reducer(f"queue/{type(cause).__name__}", set_state)


def _reducer_for(step: Step) -> Reducer[Any]:
    return _setter(step[0], step[2])


def _spread(steps: Observable[Step]) -> Observable[QueueEffect]:
    def subscribe(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> Any:
        def on_step(step: Step) -> None:
            for effect in step[1]:
                observer.on_next(effect)

        return steps.subscribe(on_step, observer.on_error, observer.on_completed)

    return reactivex.create(subscribe)


def queue_component(
    sources: Mapping[str, Any],
    *,
    config: QueueConfig | None = None,
    channel: str = "queue",
    state: str = "state",
) -> dict[str, Observable[Any]]:
    """Queue events from ``sources[channel]`` in; the effects out on ``channel``, and the queue's
    state as reducers on ``state`` (named ``queue/<event>``) for the session log."""
    seed: Step = (QueueState(config=config or QueueConfig()), [], None)

    def fold(previous: Step, event: Any) -> Step:
        new_state, effects = update(previous[0], event)
        return new_state, effects, event

    steps = as_source(sources[channel]).events().pipe(ops.scan(fold, seed), ops.share())
    return {
        channel: _spread(steps),
        # An unchanged state is the same object, so with_state records nothing for it.
        state: steps.pipe(ops.map(_reducer_for)),
    }
