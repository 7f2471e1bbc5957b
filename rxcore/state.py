"""with_state(main): a state channel folded from reducers, with lenses for children.

Main (or any child) returns a ``state`` sink of reducers, pure functions ``state -> state``;
``with_state`` folds them into the state stream offered back as ``sources["state"]``. Every
applied reducer is reported on the reserved ``@state`` sink as a :class:`StateChange`, so the
runtime records (cause event, reducer name, new state) and replay can compare states one by one.
Reducers must be named: the log and the debugger show the name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable
from reactivex.subject import ReplaySubject, Subject

from .recorder import STATE_SINK

S = TypeVar("S")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Reducer(Generic[S]):
    """A named pure function from one state to the next."""

    name: str
    fn: Callable[[S], S]

    def __call__(self, state: S) -> S:
        return self.fn(state)


def reducer(fn: Callable[[S], S]) -> Reducer[S]:
    """Decorator: a reducer named after its function."""
    return as_reducer(fn)


def as_reducer(value: Any) -> Reducer[Any]:
    if isinstance(value, Reducer):
        return value
    name = getattr(value, "__name__", None)
    if not callable(value) or name is None or name == "<lambda>":
        raise TypeError(
            f"a state sink emitted {value!r}; reducers must be named: emit "
            "Reducer('what_it_does', fn) or a def-function, not a lambda"
        )
    return Reducer(name, value)


@dataclasses.dataclass(frozen=True)
class StateChange:
    """Reported on the ``@state`` sink after each reducer."""

    reducer: str
    state: Any


@dataclasses.dataclass(frozen=True)
class Lens(Generic[S, T]):
    """A view of part ``T`` of a state ``S``: ``get`` it, or ``set`` a new one into ``S``."""

    name: str
    get: Callable[[S], T]
    set: Callable[[S, T], S]


def prop_lens(key: Hashable) -> Lens[Any, Any]:
    """Focus on a mapping key, a dataclass field or a sequence index; missing gives None."""

    def get(state: Any) -> Any:
        if state is None:
            return None
        if isinstance(state, Mapping):
            return state.get(key)
        if isinstance(key, str) and dataclasses.is_dataclass(state):
            return getattr(state, key)
        if isinstance(key, int) and isinstance(state, Sequence):
            return state[key] if -len(state) <= key < len(state) else None
        raise TypeError(f"cannot focus on {key!r} in a state of type {type(state).__name__}")

    def set_(state: Any, value: Any) -> Any:
        if get(state) is value:
            return state
        if state is None:
            return {key: value}
        if isinstance(state, Mapping):
            return {**state, key: value}
        if isinstance(key, str) and dataclasses.is_dataclass(state):
            return dataclasses.replace(state, **{key: value})  # type: ignore[type-var]
        if isinstance(key, int) and isinstance(state, tuple):
            return (*state[:key], value, *state[key + 1 :])
        raise TypeError(f"cannot set {key!r} in a state of type {type(state).__name__}")

    return Lens(str(key), get, set_)


def lift(lens: Lens[Any, Any], child: Reducer[Any]) -> Reducer[Any]:
    """A child's reducer, applied through a lens to the parent's state."""

    def apply(state: Any) -> Any:
        return lens.set(state, child(lens.get(state)))

    return Reducer(f"{lens.name}/{child.name}", apply)


class StateSource:
    """The state channel as a source: ``stream`` remembers the latest state for late subscribers."""

    def __init__(self, stream: Observable[Any]) -> None:
        self.stream = stream

    def isolate_source(self, scope: str | Lens[Any, Any]) -> StateSource:
        lens = scope if isinstance(scope, Lens) else prop_lens(scope)
        return StateSource(
            self.stream.pipe(
                ops.map(lens.get),
                ops.distinct_until_changed(comparer=lambda a, b: a is b),
            )
        )

    def isolate_sink(self, sink: Observable[Any], scope: str | Lens[Any, Any]) -> Observable[Any]:
        lens = scope if isinstance(scope, Lens) else prop_lens(scope)
        return sink.pipe(ops.map(lambda r: lift(lens, as_reducer(r))))


def with_state(
    main: Callable[[dict[str, Any]], Mapping[str, Observable[Any]]], *, channel: str = "state"
) -> Callable[[dict[str, Any]], dict[str, Observable[Any]]]:
    """Give ``main`` a state channel: it reads ``sources[channel]`` and returns reducers there."""

    def wrapped(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        states: ReplaySubject[Any] = ReplaySubject(buffer_size=1)
        reducers: Subject[Reducer[Any]] = Subject()
        sinks = dict(main({**sources, channel: StateSource(states)}))
        reducer_sink = sinks.pop(channel, reactivex.never())

        def fold(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> Any:
            current: list[Any] = [None]

            def apply(value: Any) -> None:
                try:
                    step = as_reducer(value)
                    new = step(current[0])
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if new is current[0]:
                    return
                current[0] = new
                observer.on_next(StateChange(step.name, new))
                states.on_next(new)

            return CompositeDisposable(
                reducers.subscribe(apply, observer.on_error),
                reducer_sink.subscribe(reducers.on_next, observer.on_error, observer.on_completed),
            )

        # Subscribed by the runtime after the drivers' sinks, so reducers that run at start-up
        # (the initial state) find every downstream listener in place.
        sinks[STATE_SINK] = reactivex.create(fold)
        return sinks

    wrapped.__wrapped__ = main  # type: ignore[attr-defined]
    wrapped.__module__ = main.__module__
    wrapped.__qualname__ = f"with_state({main.__qualname__})"
    return wrapped


Component = Callable[[dict[str, Any]], Mapping[str, Observable[Any]]]


def collection(
    item: Component,
    *,
    key: Callable[[Any], Hashable],
    channels: Sequence[str],
    state: str = "state",
) -> Component:
    """One ``item`` component per element of a keyed list in the state.

    The parent's state (at ``sources[state]``) must be a tuple of items; ``key(item)`` names
    each one. A child is created when its key appears and disposed when it disappears; it sees
    its own item through a lens and its other sources isolated under ``str(key)``. The sinks of
    all live children are merged per channel (``channels`` names them, state included).
    """
    from .isolate import isolate

    def component(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        state_source: StateSource = sources[state]
        outputs: dict[str, Subject[Any]] = {name: Subject() for name in channels}

        def activate(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> Any:
            children: dict[Hashable, DisposableBase] = {}

            def on_items(items: Any) -> None:
                keys = [key(i) for i in (items or ())]
                live = set(keys)
                for gone in [k for k in children if k not in live]:
                    children.pop(gone).dispose()
                for k in keys:
                    if k not in children:
                        children[k] = start(k)

            def start(k: Hashable) -> DisposableBase:
                lens = _item_lens(key, k)
                scopes: dict[str, Any] = {"*": str(k), state: lens}
                sinks = isolate(item, scopes)(sources)
                subs = CompositeDisposable()
                for name in channels:
                    if name in sinks:
                        subs.add(sinks[name].subscribe(outputs[name].on_next, observer.on_error))
                return subs

            def dispose_all() -> None:
                for child in children.values():
                    child.dispose()
                children.clear()

            subscription = state_source.stream.subscribe(on_items, observer.on_error)
            return CompositeDisposable(subscription, reactivex.disposable.Disposable(dispose_all))

        children_alive = reactivex.create(activate).pipe(ops.share())
        return {name: reactivex.merge(outputs[name], children_alive) for name in channels}

    return component


def _item_lens(key: Callable[[Any], Hashable], k: Hashable) -> Lens[Any, Any]:
    def get(items: Any) -> Any:
        for i in items or ():
            if key(i) == k:
                return i
        return None

    def set_(items: Any, value: Any) -> Any:
        if value is None:
            return tuple(i for i in items if key(i) != k)
        return tuple(value if key(i) == k else i for i in items)

    return Lens(f"[{k}]", get, set_)
