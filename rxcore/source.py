"""Source: what main sees of one driver.

A source is a pure view over a hot stream of events: it can filter by type and by isolation
scope, and nothing in it performs effects. Because a source is only a view, the runtime and the
replay machinery can rebuild the same view over a different stream (``with_events``): the
recorded, sequence-numbered stream live, the logged one in replay.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self, TypeVar, overload

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from .message import Message

E = TypeVar("E")
_TypeSpec = type[Any] | tuple[type[Any], ...]


def _in_scope(namespace: tuple[str, ...]) -> Any:
    width = len(namespace)

    def check(event: Any) -> bool:
        return getattr(event, "scope", ())[:width] == namespace

    return check


class Source:
    """A driver's events, scoped to a namespace.

    An event is visible in namespace ``ns`` when its ``scope`` starts with ``ns``. Subclasses
    set ``shared = True`` for channels that every component sees whole (a clock), and may add
    derived views, as long as those are pure functions of the event stream.
    """

    shared: ClassVar[bool] = False

    def __init__(self, events: Observable[Any], namespace: tuple[str, ...] = ()) -> None:
        self._raw = events
        self.namespace = namespace
        self._events = events.pipe(ops.filter(_in_scope(namespace))) if namespace else events

    def events(self) -> Observable[Any]:
        """Every event visible in this scope."""
        return self._events

    @overload
    def select(self, kind: type[E]) -> Observable[E]: ...
    @overload
    def select(self, kind: tuple[type[Any], ...]) -> Observable[Any]: ...
    def select(self, kind: _TypeSpec) -> Observable[Any]:
        """Events of one type (or any of a tuple of types)."""
        return self._events.pipe(ops.filter(lambda event: isinstance(event, kind)))

    def raw_events(self) -> Observable[Any]:
        """The unscoped stream; for the runtime and replay, not for components."""
        return self._raw

    def with_events(self, events: Observable[Any]) -> Self:
        """The same view over another stream."""
        return type(self)(events, self.namespace)

    def isolate_source(self, scope: str) -> Self:
        if self.shared:
            return self
        return type(self)(self._raw, (*self.namespace, scope))

    def isolate_sink(self, sink: Observable[Any], scope: str) -> Observable[Any]:
        if self.shared:
            return sink
        return sink.pipe(ops.map(lambda request: _push_scope(request, scope)))


def _push_scope(request: Any, scope: str) -> Any:
    if not isinstance(request, Message):
        raise TypeError(
            f"an isolated component sent {type(request).__name__}, which has no 'scope' field; "
            "derive requests from rxcore.Message so isolation can route the answers"
        )
    return dataclasses.replace(request, scope=(scope, *request.scope))


def as_source(value: Source | Observable[Any]) -> Source:
    """Accept a plain observable from simple drivers."""
    if isinstance(value, Source):
        return value
    if isinstance(value, Observable):
        return Source(value)
    raise TypeError(
        f"a driver returned {type(value).__name__}; it must return an rxcore Source or an "
        "Observable of events"
    )


def empty_source() -> Source:
    return Source(reactivex.never())
