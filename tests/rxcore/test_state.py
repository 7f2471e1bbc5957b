"""with_state(): named reducers, state changes reported for the log, lenses, collections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as ops

from rxcore import Message, Reducer, collection, isolate, prop_lens, reducer, with_state
from rxcore.testing import drive


@dataclass(frozen=True, kw_only=True)
class Add(Message):
    key: str
    n: int


def test_reducers_fold_into_state_and_each_change_is_reported() -> None:
    def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        adds = sources["bus"].events()
        return {
            "state": reactivex.merge(
                reactivex.of(Reducer("init", lambda _: {"total": 0})),
                adds.pipe(ops.map(lambda e: Reducer("add", lambda s: {"total": s["total"] + e.n}))),
            ),
            "out": sources["state"].stream.pipe(ops.map(lambda s: s["total"])),
        }

    out = drive(with_state(main), [("bus", Add(key="", n=2)), ("bus", Add(key="", n=3))])
    assert out["out"] == [0, 2, 5]
    assert out["@state"] == [("init", {"total": 0}), ("add", {"total": 2}), ("add", {"total": 5})]


def test_reducer_returning_the_same_state_is_not_a_change() -> None:
    def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"state": reactivex.of(Reducer("init", lambda _: 1), Reducer("same", lambda s: s))}

    assert drive(with_state(main), [])["@state"] == [("init", 1)]


def test_lambdas_are_refused_and_defs_are_named() -> None:
    @reducer
    def start(_: Any) -> int:
        return 7

    def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"state": reactivex.of(start, lambda s: s)}

    errors: list[Exception] = []
    sinks = with_state(main)({})
    sinks["@state"].subscribe(on_error=errors.append)
    assert "reducers must be named" in str(errors[0])


def test_lens_gives_a_child_its_slice_and_names_its_reducers() -> None:
    def child(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {
            "state": reactivex.of(Reducer("bump", lambda n: (n or 0) + 1)),
            "out": sources["state"].stream,
        }

    def parent(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        kid = isolate(child, {"state": "counter", "*": None})(sources)
        return {
            "state": reactivex.concat(
                reactivex.of(Reducer("init", lambda _: {"counter": 10, "other": "x"})),
                kid["state"],
            ),
            "out": kid["out"],
        }

    out = drive(with_state(parent), [])
    assert out["@state"] == [
        ("init", {"counter": 10, "other": "x"}),
        ("counter/bump", {"counter": 11, "other": "x"}),
    ]
    assert out["out"] == [10, 11]


def test_prop_lens_on_dataclass_tuple_and_missing_keys() -> None:
    @dataclass(frozen=True)
    class Doc:
        title: str

    lens = prop_lens("title")
    assert lens.set(Doc("a"), "b") == Doc("b")
    assert prop_lens(1).set((1, 2, 3), 9) == (1, 9, 3)
    assert prop_lens("k").get({}) is None
    with pytest.raises(TypeError, match="cannot focus"):
        prop_lens("k").get(3)


def test_collection_runs_one_child_per_key_and_disposes_removed_ones() -> None:
    def item(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        mine = sources["bus"].events()
        return {
            "state": mine.pipe(
                ops.map(lambda e: Reducer("add", lambda it: {**it, "n": it["n"] + e.n}))
            ),
            "out": sources["state"].stream.pipe(ops.map(lambda it: (it["id"], it["n"]))),
        }

    items = collection(item, key=lambda it: it["id"], channels=("state", "out"))

    def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        children = items({**sources, "state": sources["state"].isolate_source("items")})
        lifted = sources["state"].isolate_sink(children["state"], "items")
        removals = (
            sources["ctl"]
            .events()
            .pipe(ops.map(lambda e: Reducer("remove", lambda s: {"items": s["items"][1:]})))
        )
        return {
            "state": reactivex.merge(
                reactivex.of(
                    Reducer("init", lambda _: {"items": ({"id": "a", "n": 0}, {"id": "b", "n": 0})})
                ),
                lifted,
                removals,
            ),
            "out": children["out"],
        }

    script = [
        ("bus", Add(key="", n=5, scope=("b",))),
        ("ctl", Add(key="", n=0)),
        ("bus", Add(key="", n=1, scope=("a",))),
    ]
    out = drive(with_state(main), script)
    assert out["out"] == [("a", 0), ("b", 0), ("b", 5)]
    reducers = [name for name, _ in out["@state"]]
    assert reducers == ["init", "items/[b]/add", "remove"]
    assert out["@state"][-1][1] == {"items": ({"id": "b", "n": 5},)}
