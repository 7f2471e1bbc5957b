"""The job queue as a component: queue events in, effects out on ``queue``, and the queue's
state as named reducers on ``state`` so the session log records every transition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reactivex import Observable

from components.queue import QueueConfig, QueueState, update
from components.transition import run_transition
from rxcore.source import as_source


def queue_component(
    sources: Mapping[str, Any],
    *,
    config: QueueConfig | None = None,
    channel: str = "queue",
    state: str = "state",
) -> dict[str, Observable[Any]]:
    """Queue events from ``sources[channel]`` in; the effects out on ``channel``, and the queue's
    state as reducers on ``state`` (named ``queue/<event>``) for the session log."""
    initial = QueueState(config=config or QueueConfig())
    run = run_transition(as_source(sources[channel]).events(), update, initial, "queue")
    # An unchanged state is the same object, so with_state records nothing for it.
    return {channel: run.effects, state: run.reducers}
