"""Helpers for testing components without a loop, a runtime or real drivers.

``drive(main, script)`` feeds a list of ``(driver, event)`` pairs through ``main`` synchronously
and returns every sink emission per sink, in order; ``FakeDriver`` is a driver whose events the
test pushes by hand while it records the requests it received.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reactivex import Observable
from reactivex.abc import DisposableBase
from reactivex.subject import Subject

from .recorder import STATE_SINK
from .run import Main
from .source import Source


class FakeDriver:
    """Records what main sent it; ``emit`` pushes an event to main."""

    def __init__(self, source_class: type[Source] = Source) -> None:
        self.requests: list[Any] = []
        self._events: Subject[Any] = Subject()
        self._source_class = source_class
        self._subscription: DisposableBase | None = None

    def __call__(self, sink: Observable[Any]) -> Source:
        self._subscription = sink.subscribe(self.requests.append)
        return self._source_class(self._events)

    def emit(self, event: Any) -> None:
        self._events.on_next(event)

    def dispose(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()


def drive(
    main: Main,
    script: Iterable[tuple[str, Any]],
    *,
    source_classes: Mapping[str, type[Source]] | None = None,
) -> dict[str, list[Any]]:
    """Run ``main`` over scripted events, synchronously; returns emissions per sink.

    Driver names are taken from the script plus ``source_classes``. State changes appear under
    ``"@state"`` as ``(reducer name, state)`` pairs.
    """
    steps = list(script)
    names = {name for name, _ in steps} | set(source_classes or {})
    subjects: dict[str, Subject[Any]] = {name: Subject() for name in names}
    classes = source_classes or {}
    sources = {name: classes.get(name, Source)(subjects[name]) for name in names}
    sinks = main(sources)
    out: dict[str, list[Any]] = {name: [] for name in sinks}
    subscriptions: list[DisposableBase] = []
    for name, sink in sorted(sinks.items(), key=lambda item: item[0].startswith("@")):
        if name == STATE_SINK:
            changes = out[name]

            def note(change: Any, changes: list[Any] = changes) -> None:
                changes.append((change.reducer, change.state))

            subscriptions.append(sink.subscribe(note))
        else:
            subscriptions.append(sink.subscribe(out[name].append))
    for name, event in steps:
        subjects[name].on_next(event)
    for subscription in subscriptions:
        subscription.dispose()
    return out
