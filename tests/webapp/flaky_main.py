"""A deliberately non-deterministic main, for tests only: it reads the clock inside main.

Events keyed ``"late"`` get an answer stamped with ``time.time()``: a replay sends another
stamp, so verify must point at the first such event and nothing before it.
"""

from __future__ import annotations

import time
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from rxcore import with_state
from tests.rxcore.replay_app import Echo, Input
from tests.rxcore.replay_app import app as deterministic_app


def _is_late(event: Input) -> bool:
    return event.key == "late"


def _stamp(event: Input) -> Echo:
    return Echo(request_id=f"at-{time.time()!r}", n=event.n)  # the clock, inside main


def app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    sinks = dict(deterministic_app(sources))
    late: Observable[Input] = sources["input"].select(Input).pipe(ops.filter(_is_late))
    stamped = late.pipe(ops.map(_stamp))
    sinks["output"] = reactivex.merge(sinks["output"], stamped)
    return sinks


main = with_state(app)
