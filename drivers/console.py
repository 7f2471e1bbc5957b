"""Text output as an effect: ``Print`` requests write lines to a stream (stdout by default)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import reactivex
from reactivex import Observable
from reactivex.abc import DisposableBase

from rxcore.effects import Print
from rxcore.source import Source


class ConsoleDriver:
    """Writes each ``Print`` as one line; its source emits nothing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._subscription: DisposableBase | None = None

    def __call__(self, sink: Observable[Any]) -> Source:
        self._subscription = sink.subscribe(self._write)
        return Source(reactivex.never())

    def _write(self, request: Any) -> None:
        if not isinstance(request, Print):
            raise TypeError(f"console driver takes Print requests, got {type(request).__name__}")
        stream = self._stream or sys.stdout
        stream.write(request.text + "\n")
        stream.flush()

    def dispose(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None


__all__ = ["ConsoleDriver", "Print", "console_driver"]


def console_driver(stream: TextIO | None = None) -> ConsoleDriver:
    return ConsoleDriver(stream)
