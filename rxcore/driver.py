"""The driver protocol, and helpers that build request/answer drivers from plain functions.

A driver is a callable ``driver(sink) -> Source`` with ``dispose()``. It subscribes to the sink
(main's requests), performs effects, and emits events on the asyncio loop thread; the runtime
numbers and logs every event before main sees it.

Most drivers answer requests one by one. :class:`AsyncDriver` runs an ``async def`` per request
on the loop; :class:`ThreadDriver` runs a blocking function per request on worker threads and
posts what it emits back to the loop with ``call_soon_threadsafe``. Both route ``Cancel`` to the
running work: a task is cancelled, a thread sees ``ctx.cancelled`` (blocking code cannot be
interrupted from outside, so long loops check it between steps).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from reactivex import Observable
from reactivex.abc import DisposableBase
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject

from .message import Message, Request
from .source import Source

logger = logging.getLogger("rxcore.driver")

R = TypeVar("R", bound=Request)


@runtime_checkable
class Driver(Protocol):
    def __call__(self, sink: Observable[Any]) -> Source | Observable[Any]: ...

    def dispose(self) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cancel(Request):
    """Ask a driver to stop the work started by the request with this ``request_id``."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cancelled(Message):
    """The work for ``request_id`` stopped before it finished."""

    request_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Failed(Message):
    """The work for ``request_id`` raised; ``error`` is the exception type's name."""

    request_id: str
    error: str
    message: str


class RequestCancelled(Exception):
    """Raised inside work that noticed its request was cancelled."""


def loop_scheduler(loop: asyncio.AbstractEventLoop | None = None) -> AsyncIOScheduler:
    """The scheduler to pass to every RxPY time operator in a driver.

    RxPY falls back to a thread-based timer scheduler when none is given, which would post
    emissions from a foreign thread; always pass this one instead.
    """
    return AsyncIOScheduler(loop or asyncio.get_running_loop())


class Context(Generic[R]):
    """What the work for one request can do: emit progress, and see whether it was cancelled."""

    def __init__(self, request: R, post: Callable[[Any], None]) -> None:
        self.request = request
        self._post = post
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise RequestCancelled(self.request.request_id)

    def emit(self, event: Any) -> None:
        """Send an event to main (safe from any thread); it answers in the request's scope."""
        self._post(with_scope(event, self.request.scope))

    def _cancel(self) -> None:
        self._cancelled.set()


def with_scope(event: Any, scope: tuple[str, ...]) -> Any:
    """Address an answer to the scope of the request that caused it."""
    if isinstance(event, Message) and event.scope != scope:
        return dataclasses.replace(event, scope=scope)
    return event


class RequestDriver(Generic[R]):
    """Shared plumbing: subscribe to the sink, dispatch requests and cancels, emit on the loop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._events: Subject[Any] = Subject()
        self._subscription: DisposableBase | None = None
        self._contexts: dict[str, Context[R]] = {}
        self._disposed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, sink: Observable[Any]) -> Source:
        if self._subscription is not None:
            raise RuntimeError(f"driver {self.name!r} is already wired to a runtime")
        self._loop = asyncio.get_running_loop()
        self._subscription = sink.subscribe(self._on_request, self._on_sink_error)
        return self.make_source(self._events)

    def make_source(self, events: Observable[Any]) -> Source:
        return Source(events)

    # -- emitting ----------------------------------------------------------------------------
    def _emit(self, event: Any) -> None:
        if not self._disposed:
            self._events.on_next(event)

    def _emit_threadsafe(self, event: Any) -> None:
        loop = self._loop
        if loop is None or self._disposed:
            return
        try:
            loop.call_soon_threadsafe(self._emit, event)
        except RuntimeError:
            # The loop closed while work was finishing; nobody is left to receive it.
            logger.debug("driver %s dropped an event after its loop closed", self.name)

    # -- requests ----------------------------------------------------------------------------
    def _on_request(self, request: Any) -> None:
        if isinstance(request, Cancel):
            running = self._contexts.get(request.request_id)
            if running is not None:
                running._cancel()
                self.cancel(request.request_id)
            return
        if not isinstance(request, Request):
            raise TypeError(
                f"driver {self.name!r} got {type(request).__name__}; it takes rxcore.Request "
                "subclasses with a request_id"
            )
        if request.request_id in self._contexts:
            self._emit(
                with_scope(
                    Failed(
                        request_id=request.request_id,
                        error="DuplicateRequest",
                        message=f"request id {request.request_id!r} is already running",
                    ),
                    request.scope,
                )
            )
            return
        # The driver's request type is trusted here: main decides what it sends each driver.
        ctx: Context[R] = Context(cast(R, request), self._post_for_context)
        self._contexts[request.request_id] = ctx
        self.start(ctx)

    def _on_sink_error(self, error: Exception) -> None:
        # main's sink failed; the runtime reports it with the sink's name. Nothing to answer.
        logger.debug("driver %s: sink ended with %r", self.name, error)

    def _post_for_context(self, event: Any) -> None:
        self._emit_threadsafe(event)

    def _finish(self, ctx: Context[R], event: Any) -> None:
        """Called on the loop when the work for ``ctx`` is over."""
        self._contexts.pop(ctx.request.request_id, None)
        if event is not None:
            self._emit(with_scope(event, ctx.request.scope))

    def _outcome(self, ctx: Context[R], result: Any, error: BaseException | None) -> Any:
        request_id = ctx.request.request_id
        if isinstance(error, RequestCancelled | asyncio.CancelledError):
            return Cancelled(request_id=request_id)
        if error is not None:
            logger.warning("driver %s: request %s failed: %r", self.name, request_id, error)
            return Failed(request_id=request_id, error=type(error).__name__, message=str(error))
        return result

    # -- for subclasses ----------------------------------------------------------------------
    def start(self, ctx: Context[R]) -> None:
        raise NotImplementedError

    def cancel(self, request_id: str) -> None:
        """Stop work that cannot see ``ctx.cancelled`` by itself (tasks, queued futures)."""

    def dispose(self) -> None:
        if self._disposed:
            return
        self._disposed = True
        if self._subscription is not None:
            self._subscription.dispose()
        for ctx in list(self._contexts.values()):
            ctx._cancel()
            self.cancel(ctx.request.request_id)
        self._contexts.clear()
        self.close()
        self._events.on_completed()

    def close(self) -> None:
        """Release what the subclass holds (threads, tasks)."""


AsyncHandler = Callable[[R, Context[R]], Awaitable[Any]]
BlockingHandler = Callable[[R, Context[R]], Any]


class AsyncDriver(RequestDriver[R]):
    """Runs ``await handler(request, ctx)`` on the loop for each request."""

    def __init__(self, handler: AsyncHandler[R], *, name: str = "async") -> None:
        super().__init__(name)
        self._handler = handler
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def start(self, ctx: Context[R]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(_invoke(self._handler, ctx), name=f"rxgen-{self.name}")
        self._tasks[ctx.request.request_id] = task
        # A done-callback, not a try/except in the task: a task cancelled before it first runs
        # never enters its coroutine, and still has to be answered.
        task.add_done_callback(lambda done: self._task_done(ctx, done))

    def _task_done(self, ctx: Context[R], task: asyncio.Task[Any]) -> None:
        self._tasks.pop(ctx.request.request_id, None)
        if self._disposed:
            return
        if task.cancelled():
            self._finish(ctx, self._outcome(ctx, None, asyncio.CancelledError()))
            return
        error = task.exception()
        self._finish(ctx, self._outcome(ctx, None if error else task.result(), error))

    def _post_for_context(self, event: Any) -> None:
        # Async work runs on the loop: emit directly and keep the order with its final answer.
        self._emit(event)

    def cancel(self, request_id: str) -> None:
        task = self._tasks.get(request_id)
        if task is not None:
            task.cancel()

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()


class ThreadDriver(RequestDriver[R]):
    """Runs ``handler(request, ctx)`` on a pool of worker threads for each request.

    Requests that ``inline`` accepts run on the event loop instead, in a later loop turn (never
    inside the sink emission that made them): for work that takes microseconds, the hop to a
    thread and back costs more than the work itself.
    """

    def __init__(
        self,
        handler: BlockingHandler[R],
        *,
        name: str = "thread",
        max_workers: int = 1,
        inline: Callable[[R], bool] | None = None,
    ) -> None:
        super().__init__(name)
        self._handler = handler
        self._inline = inline
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"rxgen-{name}")
        self._futures: dict[str, Future[None]] = {}

    def start(self, ctx: Context[R]) -> None:
        if self._inline is not None and self._loop is not None and self._inline(ctx.request):
            self._loop.call_soon(self._work_inline, ctx)
            return
        self._futures[ctx.request.request_id] = self._pool.submit(self._work, ctx)

    def _call(self, ctx: Context[R]) -> Any:
        result: Any = None
        error: BaseException | None = None
        try:
            ctx.raise_if_cancelled()
            result = self._handler(ctx.request, ctx)
        except Exception as exc:
            error = exc
        return self._outcome(ctx, result, error)

    def _work_inline(self, ctx: Context[R]) -> None:
        if self._disposed or self._loop is None:
            return
        # Posted, not finished here: what the work emitted is already queued on the loop, and
        # the answer must come after it, as it does from a thread.
        self._loop.call_soon(self._done, ctx, self._call(ctx))

    def _work(self, ctx: Context[R]) -> None:
        outcome = self._call(ctx)
        loop = self._loop
        if loop is None or self._disposed:
            return
        try:
            loop.call_soon_threadsafe(self._done, ctx, outcome)
        except RuntimeError:
            logger.debug("driver %s finished after its loop closed", self.name)

    def _done(self, ctx: Context[R], outcome: Any) -> None:
        self._futures.pop(ctx.request.request_id, None)
        if not self._disposed:
            self._finish(ctx, outcome)

    def cancel(self, request_id: str) -> None:
        future = self._futures.get(request_id)
        if future is not None and future.cancel():
            # It never started, so no worker will report back: answer here.
            self._futures.pop(request_id, None)
            ctx = self._contexts.pop(request_id, None)
            if ctx is not None and not self._disposed:
                self._emit(with_scope(Cancelled(request_id=request_id), ctx.request.scope))

    def close(self) -> None:
        # Waits for running work: it was told to stop, and a thread cannot be killed.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()


async def _invoke(handler: AsyncHandler[R], ctx: Context[R]) -> Any:
    # The handler's coroutine is made inside the task, so a task cancelled before it starts
    # leaves no never-awaited coroutine behind.
    return await handler(ctx.request, ctx)


def async_driver(handler: AsyncHandler[R], *, name: str = "async") -> AsyncDriver[R]:
    return AsyncDriver(handler, name=name)


def thread_driver(
    handler: BlockingHandler[R], *, name: str = "thread", max_workers: int = 1
) -> ThreadDriver[R]:
    return ThreadDriver(handler, name=name, max_workers=max_workers)
