"""A small stateful app for the log and replay tests (importable, so logs can name it)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from rxcore import Message, Reducer, Request, isolate, sensitive, with_state


@dataclass(frozen=True, kw_only=True)
class Input(Message):
    key: str
    n: int
    token: str = sensitive(default="")


@dataclass(frozen=True, kw_only=True)
class Echo(Request):
    n: int
    token: str = sensitive(default="")


def _add(e: Input) -> Reducer[Any]:
    def add(state: dict[str, Any]) -> dict[str, Any]:
        by_key = dict(state["by_key"])
        by_key[e.key] = by_key.get(e.key, 0) + e.n
        return {**state, "sum": state["sum"] + e.n, "by_key": by_key, "last": e.n}

    return Reducer("add", add)


def _child(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    # Sees only the events scoped to it; counts them in its own slice of the state.
    mine = sources["input"].select(Input)
    return {
        "state": mine.pipe(ops.map(lambda e: Reducer("seen", lambda n: (n or 0) + 1))),
        "output": mine.pipe(ops.map(lambda e: Echo(request_id=f"child-{e.n}", n=e.n))),
    }


def app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    inputs = sources["input"].select(Input)
    child = isolate(_child, {"state": "child", "*": "kid"})(sources)
    return {
        "state": reactivex.merge(
            reactivex.of(Reducer("init", lambda _: {"sum": 0, "by_key": {}, "last": None})),
            inputs.pipe(ops.filter(lambda e: not e.scope), ops.map(_add)),
            child["state"],
        ),
        "output": reactivex.merge(
            inputs.pipe(
                ops.filter(lambda e: e.n % 3 == 0 and not e.scope),
                ops.map(lambda e: Echo(request_id=f"e{e.n}", n=e.n, token=e.token)),
            ),
            child["output"],
        ),
    }


main = with_state(app)

_counter = itertools.count()


def impure_app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    """Deliberately non-deterministic (a global counter): verify must catch it."""
    inputs = sources["input"].select(Input)
    return {
        "output": inputs.pipe(ops.map(lambda e: Echo(request_id=f"r{next(_counter)}", n=e.n))),
    }
