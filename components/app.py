"""The root main: the workflow executor with a recorded state channel.

``make_app(catalog)`` builds it for any catalog (plugins included); ``main`` is the one for
the built-in nodes, importable by name so a recorded log can be replayed against it.
``make_server_app``/``server_main`` put the job queue in front of the executor (the server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable

from components.nodes import Catalog, default_catalog
from components.server_core import CoreState, server_core
from components.workflow.component import executor
from rxcore.isolate import isolate
from rxcore.state import with_state

Main = Callable[[dict[str, Any]], dict[str, Observable[Any]]]


def make_app(catalog: Catalog) -> Main:
    run_jobs = executor(catalog)

    def app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        # The executor keeps its state under "executor", leaving room for siblings.
        return dict(isolate(run_jobs, {"state": "executor", "*": None})(sources))

    return with_state(app)


def make_server_app(catalog: Catalog, initial: CoreState | None = None) -> Main:
    """The server's main: jobs from ``intake`` through the queue and the executor;
    ``initial`` starts it from a recorded state (what-ifs resume from snapshots)."""
    core = server_core(catalog, initial=initial)

    def app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
        return dict(isolate(core, {"state": "core", "*": None})(sources))

    return with_state(app)


main = make_app(default_catalog())
server_main = make_server_app(default_catalog())
