"""Open session logs for the web debugger: one reader per session, kept open and locked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rxcore.log_sessions import SessionInfo, find_logs, list_sessions
from rxcore.log_view import LogView

T = TypeVar("T")


class OpenLogs:
    """One ``LogView`` per session, kept open so a growing log's index is built once."""

    def __init__(self, root: Path | None, live: Path | None) -> None:
        self.root = root
        self.live = live
        self._views: dict[str, tuple[LogView, threading.Lock]] = {}
        self._guard = threading.Lock()

    def sessions(self) -> list[SessionInfo]:
        if self.root is None or not self.root.is_dir():
            return []
        return list_sessions(self.root)

    def path(self, name: str) -> Path | None:
        """The session called ``name``: only names the listing gives are ever opened."""
        if self.root is None or not self.root.is_dir():
            return None
        return next((p for p in find_logs(self.root) if p.name == name), None)

    def use(self, name: str, work: Callable[[LogView], T]) -> T:
        with self._guard:
            held = self._views.get(name)
            if held is None:
                path = self.path(name)
                if path is None:
                    raise FileNotFoundError(name)
                held = (LogView(path), threading.Lock())
                self._views[name] = held
        view, lock = held
        with lock:
            return work(view)

    def close(self) -> None:
        with self._guard:
            for view, _ in self._views.values():
                view.close()
            self._views.clear()
