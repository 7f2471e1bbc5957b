"""A pure ``update(state, event) -> (state, effects)`` run as a component.

The executor, the job queue and the server core are each one such transition. This folds the
incoming events through it, hands out the effects one by one (synchronously, in order), and
reports every new state as a reducer named after the event that caused it, so the session log
and the debugger see each transition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import ObserverBase, SchedulerBase

from rxcore.state import Reducer

S = TypeVar("S")
Update = Callable[[S, Any], tuple[S, list[Any]]]


@dataclass(frozen=True)
class Transitions(Generic[S]):
    """The effects and the state reducers of a transition folded over ``events``."""

    effects: Observable[Any]
    reducers: Observable[Reducer[Any]]


def run_transition(
    events: Observable[Any], update: Update[S], initial: S, name: str
) -> Transitions[S]:
    """Fold ``events`` through ``update`` from ``initial``; reducers are named
    ``<name>/<event type>``."""
    seed: tuple[S, list[Any], Any] = (initial, [], None)

    def fold(previous: tuple[S, list[Any], Any], event: Any) -> tuple[S, list[Any], Any]:
        state, effects = update(previous[0], event)
        return state, effects, event

    steps = events.pipe(ops.scan(fold, seed), ops.share())

    def spread(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> Any:
        def on_step(step: tuple[S, list[Any], Any]) -> None:
            for effect in step[1]:
                observer.on_next(effect)

        return steps.subscribe(on_step, observer.on_error, observer.on_completed)

    def reducer(step: tuple[S, list[Any], Any]) -> Reducer[Any]:
        state = step[0]
        return Reducer(f"{name}/{type(step[2]).__name__}", lambda _: state)

    return Transitions(reactivex.create(spread).pipe(ops.share()), steps.pipe(ops.map(reducer)))
