"""The recorder protocol: what the runtime reports for the log, replay and verification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

STATE_SINK = "@state"
"""Reserved sink name: :func:`rxcore.state.with_state` reports each state change on it."""


class Recorder(Protocol):
    def begin(self, main_ref: str | None, sources: Mapping[str, type]) -> None:
        """Called once, before any event: the main's import path and each driver's source class."""

    def event(self, seq: int, driver: str, event: Any) -> None:
        """A source event, numbered; called before main sees it."""

    def sink(self, cause: int, driver: str, value: Any) -> None:
        """A sink emission of main, with the seq of the event being handled (0: start-up)."""

    def state(self, cause: int, reducer: str, state: Any) -> None:
        """The state after applying the named reducer."""

    def flush(self) -> None: ...

    def close(self) -> None: ...
