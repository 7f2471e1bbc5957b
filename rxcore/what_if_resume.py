"""How a main starts from a recorded state, so a what-if can replay from a snapshot (see
:mod:`rxcore.what_if`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from .log import LogError
from .run import Main
from .state import Reducer, with_state

Resume = Callable[[Any], Main]
RESUME_ATTR = "resume_from"
RESUMED = "what_if.resumed"  # a source with one event: the sandbox's start-up is over


def resumable(main: Main, resume: Resume) -> Main:
    """Declare how ``main`` starts from a recorded state (``resume(state) -> main``)."""
    setattr(main, RESUME_ATTR, resume)
    return main


def state_resume(app: Callable[[dict[str, Any]], Mapping[str, Observable[Any]]]) -> Resume:
    """For ``with_state(app)`` mains that keep *all* their state in the state channel: the
    same main, its state set to the recorded one once its own start-up is over (the sandbox
    says when on the :data:`RESUMED` source: a start-up reducer may be delivered late by a
    trampolining scheduler, so subscription order cannot be trusted to put the state last)."""

    def resume(state: Any) -> Main:
        def seeded(sources: dict[str, Any]) -> Mapping[str, Observable[Any]]:
            if RESUMED not in sources:
                raise LogError(f"a resumed main needs the {RESUMED!r} source (what_if gives it)")
            sinks = dict(app(sources))
            restore = (
                sources[RESUMED]
                .events()
                .pipe(ops.take(1), ops.map(lambda _: Reducer("resume", lambda _: state)))
            )
            sinks["state"] = reactivex.merge(sinks.get("state", reactivex.never()), restore)
            return sinks

        return with_state(seeded)

    return resume
