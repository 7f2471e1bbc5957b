"""run(): wiring, asynchronous sink delivery, error reporting and clean disposal."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.subject import Subject

from rxcore import Runtime, RuntimeFault, Source, run, run_until_done
from rxcore.driver import ThreadDriver


class EchoDriver:
    """Answers each request synchronously, from inside its sink subscription."""

    def __init__(self) -> None:
        self.events: Subject[Any] = Subject()
        self.seen: list[Any] = []
        self.subscription: Any = None

    def __call__(self, sink: Observable[Any]) -> Source:
        self.subscription = sink.subscribe(self._on_request)
        return Source(self.events)

    def _on_request(self, value: Any) -> None:
        self.seen.append(value)
        self.events.on_next(("echo", value))

    def dispose(self) -> None:
        self.subscription.dispose()


def test_sink_emissions_wait_until_every_driver_is_wired() -> None:
    # Cycle.js's race: main emits synchronously while sinks are being subscribed; a driver
    # answering synchronously must not reach a main whose other sinks are not listening yet.
    async def scenario() -> list[Any]:
        a, b = EchoDriver(), EchoDriver()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            echoed = sources["a"].events().pipe(ops.map(lambda e: ("from-a", e[1])))
            return {"a": reactivex.of(1, 2), "b": echoed}

        runtime = run(main, {"a": a, "b": b})
        assert a.seen == [] and b.seen == []  # nothing delivered synchronously
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        runtime.dispose()
        return b.seen

    assert asyncio.run(scenario()) == [("from-a", 1), ("from-a", 2)]


def test_events_are_numbered_in_arrival_order_across_drivers() -> None:
    async def scenario() -> list[tuple[int, str, Any]]:
        a, b = EchoDriver(), EchoDriver()
        seen: list[tuple[int, str, Any]] = []

        class Rec:
            def begin(self, main_ref: Any, sources: Any) -> None: ...
            def event(self, seq: int, driver: str, event: Any) -> None:
                seen.append((seq, driver, event))

            def sink(self, cause: int, driver: str, value: Any) -> None: ...
            def state(self, cause: int, reducer: str, state: Any) -> None: ...
            def flush(self) -> None: ...
            def close(self) -> None: ...

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            return {"a": reactivex.of("x"), "b": reactivex.of("y")}

        runtime = run(main, {"a": a, "b": b}, recorder=Rec())
        await asyncio.sleep(0)
        runtime.dispose()
        return seen

    assert asyncio.run(scenario()) == [(1, "a", ("echo", "x")), (2, "b", ("echo", "y"))]


def test_sink_for_unknown_driver_is_reported_by_name() -> None:
    async def scenario() -> None:
        run(lambda s: {"nope": reactivex.never()}, {"a": EchoDriver()})

    with pytest.raises(RuntimeFault, match="no driver named 'nope'"):
        asyncio.run(scenario())


def test_error_in_main_names_the_sink() -> None:
    async def scenario() -> None:
        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            return {"a": reactivex.of(1).pipe(ops.map(lambda v: 1 / 0))}

        await run_until_done(main, {"a": EchoDriver()})

    with pytest.raises(RuntimeFault, match="main's sink 'a' failed: ZeroDivisionError"):
        asyncio.run(scenario())


def test_error_in_driver_names_the_driver() -> None:
    class Broken(EchoDriver):
        def _on_request(self, value: Any) -> None:
            raise ValueError("cannot do that")

    async def scenario() -> None:
        await run_until_done(lambda s: {"gpu": reactivex.of(1)}, {"gpu": Broken()})

    with pytest.raises(RuntimeFault, match="driver 'gpu' raised handling int: ValueError"):
        asyncio.run(scenario())


def test_error_while_main_handles_an_event_names_event_and_driver() -> None:
    async def scenario() -> Runtime:
        drv = EchoDriver()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            sources["a"].events().subscribe(lambda e: 1 / 0)
            return {"a": reactivex.of(1)}

        runtime = run(main, {"a": drv})
        with pytest.raises(RuntimeFault, match=r"handling event #1 from driver 'a'"):
            await runtime.wait()
        runtime.dispose()
        return runtime

    asyncio.run(scenario())


def test_driver_failing_to_start_is_named_and_others_are_disposed() -> None:
    disposed: list[str] = []

    class Good(EchoDriver):
        def dispose(self) -> None:
            disposed.append("good")
            super().dispose()

    def bad(sink: Observable[Any]) -> Source:
        raise OSError("no GPU")

    async def scenario() -> None:
        run(lambda s: {}, {"good": Good(), "bad": bad})

    with pytest.raises(RuntimeFault, match="driver 'bad' failed to start: OSError: no GPU"):
        asyncio.run(scenario())
    assert disposed == ["good"]


def test_emission_from_a_foreign_thread_is_a_fault() -> None:
    class Rogue:
        def __init__(self) -> None:
            self.events: Subject[Any] = Subject()

        def __call__(self, sink: Observable[Any]) -> Source:
            return Source(self.events)

        def dispose(self) -> None: ...

    async def scenario() -> Runtime:
        rogue = Rogue()
        runtime = run(lambda s: {"r": s["r"].events()}, {"r": rogue})
        thread = threading.Thread(target=rogue.events.on_next, args=(1,))
        thread.start()
        thread.join()
        with pytest.raises(RuntimeFault, match="emitted from thread"):
            await runtime.wait()
        runtime.dispose()
        return runtime

    asyncio.run(scenario())


def test_run_until_done_finishes_when_every_sink_completes() -> None:
    async def scenario() -> list[Any]:
        drv = EchoDriver()
        await run_until_done(lambda s: {"a": reactivex.of(1, 2, 3)}, {"a": drv})
        return drv.seen

    assert asyncio.run(scenario()) == [1, 2, 3]


def test_dispose_leaves_no_subscription_task_or_thread() -> None:
    def work(request: Any, ctx: Any) -> Any:
        return None

    async def scenario() -> None:
        threads_before = set(threading.enumerate())
        tasks_before = asyncio.all_tasks()
        echo = EchoDriver()
        thread_driver: ThreadDriver[Any] = ThreadDriver(work, name="cpu", max_workers=2)
        from drivers.clock import Every, clock_driver

        clock = clock_driver()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            return {
                "echo": sources["clock"].events().pipe(ops.map(lambda t: t.n)),
                "clock": reactivex.of(Every(request_id="t", seconds=0.001)),
            }

        runtime = run(main, {"echo": echo, "cpu": thread_driver, "clock": clock})
        await asyncio.sleep(0.02)
        assert echo.seen, "the clock should have ticked into the echo driver"
        runtime.dispose()
        await asyncio.sleep(0)
        for subject in (*runtime.proxies.values(), *runtime.recorded.values(), echo.events):
            assert not getattr(subject, "observers", []), "a subscription survived dispose"
        assert asyncio.all_tasks() == tasks_before
        gc.collect()
        assert set(threading.enumerate()) == threads_before

    asyncio.run(scenario())


def test_run_outside_a_loop_says_so() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        run(lambda s: {}, {})
