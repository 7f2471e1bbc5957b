"""How one seq of a what-if replay differs from the recording: its sinks and the state after it.

Kept apart from :mod:`rxcore.what_if` (which runs the sandbox) so the comparison rules can be
read on their own: sinks are matched per driver, the i-th recorded emission to a driver against
the i-th replayed one; states are compared with :func:`rxcore.log_diff.changes`, so a path
names the deepest part that differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .log_diff import Change

SinkOp = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class SinkDifference:
    """``added``: only the what-if sent it; ``removed``: only the recording has it."""

    op: SinkOp
    driver: str
    index: int  # the how-many-th emission to ``driver`` caused by this seq (from 0)
    recorded: Any = None
    replayed: Any = None


@dataclass(frozen=True)
class SeqDifference:
    """One seq whose sinks differ, or after which the state differs otherwise than before it.

    ``state`` is the whole difference recording -> what-if after this seq (at most the limit
    given; ``state_total`` counts them all); empty when the states came back together.
    """

    seq: int
    sinks: tuple[SinkDifference, ...]
    state: tuple[Change, ...]
    state_total: int
    state_changed: bool  # whether the state difference is new at this seq


def sink_differences(
    recorded: list[tuple[str, Any]], replayed: list[tuple[str, Any]], limit: int
) -> tuple[SinkDifference, ...]:
    """Per driver, in order of first appearance; at most ``limit`` of them."""
    drivers = list(dict.fromkeys([d for d, _ in recorded] + [d for d, _ in replayed]))
    out: list[SinkDifference] = []
    for driver in drivers:
        mine = [v for d, v in recorded if d == driver]
        theirs = [v for d, v in replayed if d == driver]
        for i in range(max(len(mine), len(theirs))):
            if i >= len(theirs):
                out.append(SinkDifference("removed", driver, i, recorded=mine[i]))
            elif i >= len(mine):
                out.append(SinkDifference("added", driver, i, replayed=theirs[i]))
            elif mine[i] != theirs[i]:
                out.append(SinkDifference("changed", driver, i, mine[i], theirs[i]))
            if len(out) >= limit:
                return tuple(out)
    return tuple(out)
