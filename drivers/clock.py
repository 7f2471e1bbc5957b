"""Time as a source: timers answer requests with ticks, on the asyncio loop (no timer threads).

Main never reads a clock: it asks for ``Every``/``After`` timers and receives ``Tick`` events
carrying the wall and monotonic time, which the log records, so a replay sees the same times.
"""

from __future__ import annotations

import asyncio
import time

from rxcore.driver import Cancelled, Context, Failed, RequestDriver
from rxcore.effects import After, Every, Tick


class ClockDriver(RequestDriver[Every | After]):
    def __init__(self, *, name: str = "clock") -> None:
        super().__init__(name)
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, ctx: Context[Every | After]) -> None:
        request = ctx.request
        seconds = request.seconds
        count = 1 if isinstance(request, After) else request.count
        if seconds < 0 or (count is not None and count < 1):
            self._finish(ctx, _invalid(request))
            return
        self._schedule(ctx, seconds, count, 1)

    def _schedule(
        self, ctx: Context[Every | After], seconds: float, count: int | None, n: int
    ) -> None:
        assert self._loop is not None
        self._handles[ctx.request.request_id] = self._loop.call_later(
            seconds, self._fire, ctx, seconds, count, n
        )

    def _fire(self, ctx: Context[Every | After], seconds: float, count: int | None, n: int) -> None:
        request_id = ctx.request.request_id
        last = count is not None and n >= count
        tick = Tick(
            request_id=request_id, n=n, time=time.time(), monotonic=time.monotonic(), last=last
        )
        if last:
            self._handles.pop(request_id, None)
            self._finish(ctx, tick)
        else:
            self._schedule(ctx, seconds, count, n + 1)
            ctx.emit(tick)

    def _post_for_context(self, event: object) -> None:
        self._emit(event)

    def cancel(self, request_id: str) -> None:
        handle = self._handles.pop(request_id, None)
        if handle is None:
            return
        handle.cancel()
        ctx = self._contexts.pop(request_id, None)
        if ctx is not None and not self._disposed:
            self._emit(Cancelled(request_id=request_id, scope=ctx.request.scope))

    def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()


def _invalid(request: Every | After) -> Failed:
    return Failed(
        request_id=request.request_id,
        error="ValueError",
        message=f"timer {request.request_id!r}: seconds must be >= 0 and count >= 1, got "
        f"seconds={request.seconds}",
    )


__all__ = ["After", "ClockDriver", "Every", "Tick", "clock_driver"]


def clock_driver(*, name: str = "clock") -> ClockDriver:
    return ClockDriver(name=name)
