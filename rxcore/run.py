"""run(main, drivers): wire a pure main to its drivers (the Cycle.js ``run``, on asyncio).

For each driver the runtime makes a sink proxy, calls the driver with it, and gives main a view
of the driver's source whose events are numbered and recorded before main sees them. Main's
sinks are then subscribed, and their emissions are queued and delivered to the proxies from the
loop, never synchronously from inside main: a driver answering synchronously would otherwise
re-enter main while it is still propagating the previous event, and emissions made while sinks
are being wired would reach drivers before every driver is listening.

Reserved sinks (``@state``) go to the recorder only; they are subscribed after the drivers'
sinks so that anything the initial state triggers already has a listener.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from reactivex import Observable
from reactivex.abc import DisposableBase
from reactivex.subject import Subject

from .recorder import STATE_SINK, Recorder
from .source import Source, as_source

logger = logging.getLogger("rxcore.run")

Sources = Mapping[str, Any]
Sinks = Mapping[str, Observable[Any]]
Main = Callable[[dict[str, Any]], Sinks]

_COMPLETE = object()


class RuntimeFault(Exception):
    """An error raised by main or a driver, with where it happened."""

    def __init__(self, where: str, error: BaseException) -> None:
        super().__init__(f"{where}: {type(error).__name__}: {error}")
        self.where = where
        self.error = error


class Runtime:
    """A running main. ``await runtime.wait()`` until it finishes; ``dispose()`` to stop it."""

    def __init__(
        self,
        main: Main,
        drivers: Mapping[str, Any],
        *,
        recorder: Recorder | None = None,
        main_ref: str | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._recorder = recorder
        self._drivers = dict(drivers)
        self._seq = 0
        self._cause = 0
        self._pending: deque[tuple[str, Any]] = deque()
        self._flush_handle: asyncio.Handle | None = None
        self._wired = False
        self._disposed = False
        self._subscriptions: list[DisposableBase] = []
        self._open_sinks: set[str] = set()
        self._done = asyncio.Event()
        self.faults: list[RuntimeFault] = []
        self.state: Any = None  # main's latest state, when it reports one (with_state)
        self.errors: Subject[RuntimeFault] = Subject()
        self.proxies: dict[str, Subject[Any]] = {}
        self.recorded: dict[str, Subject[Any]] = {}
        try:
            self._start(main, main_ref)
        except BaseException:
            self.dispose()
            raise

    # -- wiring ------------------------------------------------------------------------------
    def _start(self, main: Main, main_ref: str | None) -> None:
        driver_sources: dict[str, Source] = {}
        for name, driver in self._drivers.items():
            proxy: Subject[Any] = Subject()
            self.proxies[name] = proxy
            try:
                driver_sources[name] = as_source(driver(proxy))
            except Exception as exc:
                raise RuntimeFault(f"driver {name!r} failed to start", exc) from exc

        if self._recorder is not None:
            self._recorder.begin(main_ref, {n: type(s) for n, s in driver_sources.items()})

        sources: dict[str, Any] = {}
        for name, source in driver_sources.items():
            recorded: Subject[Any] = Subject()
            self.recorded[name] = recorded
            sources[name] = source.with_events(recorded)

        try:
            sinks = main(sources)
        except Exception as exc:
            raise RuntimeFault("main raised while building its sinks", exc) from exc
        self._check_sinks(sinks)

        ordered = sorted(sinks.items(), key=lambda item: item[0].startswith("@"))
        for name, sink in ordered:
            self._open_sinks.add(name)
            self._subscriptions.append(
                sink.subscribe(
                    on_next=self._sink_handler(name),
                    on_error=self._sink_error_handler(name),
                    on_completed=self._sink_completed_handler(name),
                )
            )

        # Drivers' own streams last: whatever they emit synchronously on subscription now
        # reaches a fully wired main.
        for name, source in driver_sources.items():
            self._subscriptions.append(
                source.raw_events().subscribe(
                    on_next=self._ingest_handler(name, self.recorded[name]),
                    on_error=self._source_error_handler(name),
                )
            )
        self._wired = True
        self._schedule_flush()
        if not self._open_sinks:
            self._done.set()

    def _check_sinks(self, sinks: Any) -> None:
        if not isinstance(sinks, Mapping):
            raise RuntimeFault(
                "main returned an invalid value",
                TypeError(f"expected a mapping of sink name to Observable, got {type(sinks)}"),
            )
        for name, sink in sinks.items():
            if name not in self._drivers and not name.startswith("@"):
                raise RuntimeFault(
                    f"main returned sink {name!r}",
                    KeyError(f"no driver named {name!r}; drivers: {sorted(self._drivers)}"),
                )
            if not isinstance(sink, Observable):
                raise RuntimeFault(
                    f"main returned sink {name!r}",
                    TypeError(f"expected an Observable, got {type(sink).__name__}"),
                )

    # -- events in -----------------------------------------------------------------------
    def _ingest_handler(self, name: str, recorded: Subject[Any]) -> Callable[[Any], None]:
        # Bound once: this runs for every source event.
        record = self._recorder.event if self._recorder is not None else None

        def ingest(event: Any) -> None:
            if self._disposed:
                return
            if threading.get_ident() != self._thread:
                self._fault(
                    f"driver {name!r} emitted from thread {threading.current_thread().name}",
                    RuntimeError(
                        "events must be emitted on the loop thread; post them with "
                        "loop.call_soon_threadsafe (ThreadDriver does this for you)"
                    ),
                )
                return
            self._seq += 1
            seq = self._seq
            if record is not None:
                record(seq, name, event)
                # The flush that hands the record to the OS; one is usually already pending.
                if self._flush_handle is None:
                    self._schedule_flush()
            outer = self._cause
            self._cause = seq
            try:
                recorded.on_next(event)
            except Exception as exc:
                self._fault(f"main, handling event #{seq} from driver {name!r}", exc)
            finally:
                self._cause = outer

        return ingest

    def _source_error_handler(self, name: str) -> Callable[[Exception], None]:
        def on_error(error: Exception) -> None:
            self._fault(f"driver {name!r} source failed", error)

        return on_error

    # -- sinks out -----------------------------------------------------------------------
    def _sink_handler(self, name: str) -> Callable[[Any], None]:
        recorder = self._recorder
        if name == STATE_SINK:

            def on_state(change: Any) -> None:
                # A StateChange from with_state; a main without it may send other values here.
                self.state = getattr(change, "state", self.state)
                if recorder is not None:
                    recorder.state(self._cause, change.reducer, change.state)

            return on_state

        record = recorder.sink if recorder is not None else None

        def on_next(value: Any) -> None:
            if self._disposed:
                return
            if record is not None:
                record(self._cause, name, value)
            self._pending.append((name, value))
            self._schedule_flush()

        return on_next

    def _sink_error_handler(self, name: str) -> Callable[[Exception], None]:
        def on_error(error: Exception) -> None:
            self._fault(f"main's sink {name!r} failed", error)

        return on_error

    def _sink_completed_handler(self, name: str) -> Callable[[], None]:
        def on_completed() -> None:
            if name.startswith("@"):
                self._sink_closed(name)
            else:
                self._pending.append((name, _COMPLETE))
                self._schedule_flush()

        return on_completed

    def _sink_closed(self, name: str) -> None:
        self._open_sinks.discard(name)
        if not self._open_sinks:
            self._done.set()

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self._wired and not self._disposed:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        pending = self._pending
        while pending and not self._disposed:
            name, value = pending.popleft()
            proxy = self.proxies.get(name)
            if value is _COMPLETE:
                self._sink_closed(name)
                if proxy is not None:
                    proxy.on_completed()
                continue
            if proxy is None:
                continue
            try:
                proxy.on_next(value)
            except Exception as exc:
                self._fault(f"driver {name!r} raised handling {type(value).__name__}", exc)
        if self._recorder is not None and not self._disposed:
            self._recorder.flush()

    # -- faults and lifetime -----------------------------------------------------------------
    def _fault(self, where: str, error: BaseException) -> None:
        fault = RuntimeFault(where, error)
        self.faults.append(fault)
        logger.error("%s", fault, exc_info=error)
        self.errors.on_next(fault)
        self._done.set()

    @property
    def seq(self) -> int:
        """The number of source events seen so far."""
        return self._seq

    async def wait(self) -> None:
        """Until every sink of main has completed; raises the first fault if one happened."""
        await self._done.wait()
        if self.faults:
            raise self.faults[0]

    def dispose(self) -> None:
        if self._disposed:
            return
        self._disposed = True
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for subscription in self._subscriptions:
            subscription.dispose()
        self._subscriptions.clear()
        self._pending.clear()
        for name, driver in self._drivers.items():
            dispose = getattr(driver, "dispose", None)
            if dispose is None:
                continue
            try:
                dispose()
            except Exception as exc:
                self.faults.append(RuntimeFault(f"driver {name!r} failed to dispose", exc))
                logger.error("driver %r failed to dispose", name, exc_info=exc)
        if self._recorder is not None:
            self._recorder.close()
        self.errors.dispose()
        self._done.set()


def run(
    main: Main,
    drivers: Mapping[str, Any],
    *,
    log: Any = None,
    recorder: Recorder | None = None,
    main_ref: str | None = None,
) -> Runtime:
    """Start ``main`` with ``drivers`` on the running asyncio loop.

    ``log`` is a directory path to record the session to (see :mod:`rxcore.log`);
    ``main_ref`` (``"module:attr"``) tells ``rxgen log verify`` which main to replay, and is
    derived from ``main`` when it is importable under its own name.
    """
    if log is not None and recorder is not None:
        raise ValueError("pass either log= (a path) or recorder=, not both")
    if log is not None:
        from .log import LogWriter

        recorder = LogWriter(log)
    return Runtime(main, drivers, recorder=recorder, main_ref=main_ref or importable_ref(main))


def importable_ref(obj: Any) -> str | None:
    """``module:qualname`` if importing that gives back ``obj``, else None."""
    import importlib

    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module_name or not qualname:
        return None
    if module_name == "__main__":
        # A script's main is found again by its file path (see replay.load_main).
        script = getattr(sys.modules.get("__main__"), "__file__", None)
        for name, value in vars(sys.modules["__main__"]).items():
            if value is obj and script:
                return f"{os.path.abspath(script)}:{name}"
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is obj:
        return f"{module_name}:{qualname}"
    # A wrapped main (``app = with_state(main)``) carries the inner function's name; look for
    # the module-level name it is bound to instead.
    for name, value in vars(module).items():
        if value is obj:
            return f"{module_name}:{name}"
    return None


async def run_until_done(main: Main, drivers: Mapping[str, Any], **kwargs: Any) -> Runtime:
    """Run until every sink of main completes, then dispose (the embedding entry point)."""
    runtime = run(main, drivers, **kwargs)
    try:
        await runtime.wait()
    finally:
        runtime.dispose()
    return runtime
