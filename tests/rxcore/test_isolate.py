"""isolate(): a component sees only its own scope's traffic, and tags what it sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import reactivex
from hypothesis import given
from hypothesis import strategies as st
from reactivex import Observable
from reactivex import operators as ops

from rxcore import Message, Request, Source, isolate
from rxcore.testing import drive


@dataclass(frozen=True, kw_only=True)
class Ev(Message):
    n: int


@dataclass(frozen=True, kw_only=True)
class Ask(Request):
    pass


class SharedSource(Source):
    shared = True


def echo(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    return {"out": sources["bus"].events()}


scopes = st.lists(st.sampled_from(["a", "b", "c"]), max_size=3).map(tuple)


@given(
    events=st.lists(st.tuples(scopes, st.integers()), max_size=30),
    path=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3),
)
def test_isolated_component_never_sees_another_scope(
    events: list[tuple[tuple[str, ...], int]], path: list[str]
) -> None:
    component = echo
    for scope in reversed(path):
        component = isolate(component, scope)
    script = [("bus", Ev(n=n, scope=scope)) for scope, n in events]
    seen = drive(component, script, source_classes={"bus": Source})["out"]
    expected = [e for _, e in script if e.scope[: len(path)] == tuple(path)]
    assert seen == expected


@given(path=st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=3))
def test_nested_isolation_tags_requests_outermost_first(path: list[str]) -> None:
    def asker(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"bus": reactivex.of(Ask(request_id="q"))}

    component = asker
    for scope in reversed(path):
        component = isolate(component, scope)
    sent = drive(component, [], source_classes={"bus": Source})["bus"]
    assert sent == [Ask(request_id="q", scope=tuple(path))]


def test_answers_to_a_child_reach_that_child_only() -> None:
    def child(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"bus": sources["bus"].events().pipe(ops.map(lambda e: Ask(request_id=str(e.n))))}

    def parent(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        left = isolate(child, "left")(sources)
        right = isolate(child, "right")(sources)
        return {"bus": reactivex.merge(left["bus"], right["bus"])}

    out = drive(parent, [("bus", Ev(n=1, scope=("left",))), ("bus", Ev(n=2, scope=("right",)))])
    assert out["bus"] == [
        Ask(request_id="1", scope=("left",)),
        Ask(request_id="2", scope=("right",)),
    ]


def test_none_leaves_a_channel_shared_and_shared_sources_stay_whole() -> None:
    def both(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"out": reactivex.merge(sources["bus"].events(), sources["clock"].events())}

    component = isolate(both, {"*": "x", "bus": None})
    script = [("bus", Ev(n=1, scope=("y",))), ("clock", Ev(n=2))]
    out = drive(component, script, source_classes={"clock": SharedSource})
    assert out["out"] == [Ev(n=1, scope=("y",)), Ev(n=2)]


def test_scope_must_be_explicit() -> None:
    with pytest.raises(ValueError, match="explicit scope"):
        isolate(echo, "")


def test_request_without_scope_field_is_refused_clearly() -> None:
    def bad(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return {"bus": reactivex.of("plain string")}

    errors: list[Exception] = []
    sinks = isolate(bad, "x")({"bus": Source(reactivex.never())})
    sinks["bus"].subscribe(on_error=errors.append)
    assert "derive requests from rxcore.Message" in str(errors[0])
