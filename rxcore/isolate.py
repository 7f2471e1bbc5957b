"""isolate(component, scope): run a component in its own scope on every channel.

Each source that knows how to isolate itself (``isolate_source``/``isolate_sink``, as
:class:`rxcore.source.Source` and :class:`rxcore.state.StateSource` do) gives the child a view
of only its own traffic, and tags what the child sends so the answers come back to it alone.
Scopes are always explicit (no generated ids, which would differ between a run and its replay).
``scope`` is one value for every channel, or a mapping from channel name to scope with ``"*"``
as the default; a channel mapped to ``None`` stays shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reactivex import Observable

Component = Callable[[dict[str, Any]], Mapping[str, Observable[Any]]]
Scope = Any  # str, a Lens for the state channel, or None for "shared"


def _scope_for(scopes: Mapping[str, Scope], channel: str) -> Scope:
    return scopes[channel] if channel in scopes else scopes.get("*")


def isolate(component: Component, scope: str | Mapping[str, Scope]) -> Component:
    if scope is None or scope == "":
        raise ValueError(
            "isolate needs an explicit scope (a non-empty string, or a mapping of channel to "
            "scope); use None per channel in a mapping to leave that channel shared"
        )
    scopes: Mapping[str, Scope] = scope if isinstance(scope, Mapping) else {"*": scope}

    def isolated(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        inner: dict[str, Any] = {}
        for name, source in sources.items():
            channel_scope = _scope_for(scopes, name)
            if channel_scope is None or not hasattr(source, "isolate_source"):
                inner[name] = source
            else:
                inner[name] = source.isolate_source(channel_scope)
        sinks = component(inner)
        outer: dict[str, Observable[Any]] = {}
        for name, sink in sinks.items():
            source = sources.get(name)
            channel_scope = _scope_for(scopes, name)
            if channel_scope is None or source is None or not hasattr(source, "isolate_sink"):
                outer[name] = sink
            else:
                outer[name] = source.isolate_sink(sink, channel_scope)
        return outer

    isolated.__qualname__ = f"isolate({getattr(component, '__qualname__', component)!s})"
    return isolated
