"""Driver helpers: answers in the request's scope, failures as events, cancels reach the work."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

import reactivex
from reactivex import Observable

from rxcore import Cancel, Cancelled, Context, Failed, Message, Request, run
from rxcore.driver import AsyncDriver, ThreadDriver, loop_scheduler


@dataclass(frozen=True, kw_only=True)
class Work(Request):
    steps: int = 1
    fail: bool = False


@dataclass(frozen=True, kw_only=True)
class Step(Message):
    request_id: str
    n: int


@dataclass(frozen=True, kw_only=True)
class Done(Message):
    request_id: str
    thread: str


def collect(driver: Any, requests: Observable[Any], until: int, timeout: float = 5.0) -> list[Any]:
    async def scenario() -> list[Any]:
        seen: list[Any] = []
        finished = asyncio.Event()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            def note(event: Any) -> None:
                seen.append(event)
                if len(seen) >= until:
                    finished.set()

            sources["work"].events().subscribe(note)
            return {"work": requests}

        runtime = run(main, {"work": driver})
        try:
            await asyncio.wait_for(finished.wait(), timeout)
        finally:
            runtime.dispose()
        return seen

    return asyncio.run(scenario())


def blocking_work(request: Work, ctx: Context[Work]) -> Done:
    if request.fail:
        raise RuntimeError("model exploded")
    for n in range(1, request.steps + 1):
        ctx.raise_if_cancelled()
        ctx.emit(Step(request_id=request.request_id, n=n))
    return Done(request_id=request.request_id, thread=threading.current_thread().name)


def test_thread_driver_runs_off_the_loop_and_posts_back_in_order() -> None:
    driver: ThreadDriver[Work] = ThreadDriver(blocking_work, name="cpu")
    events = collect(driver, reactivex.of(Work(request_id="a", steps=3)), until=4)
    assert [type(e).__name__ for e in events] == ["Step", "Step", "Step", "Done"]
    assert events[-1].thread.startswith("rxgen-cpu")


def test_inline_requests_run_on_the_loop_in_a_later_turn_in_order() -> None:
    driver: ThreadDriver[Work] = ThreadDriver(
        blocking_work, name="cpu", inline=lambda request: request.steps < 3
    )
    requests = reactivex.of(
        Work(request_id="cheap", steps=1),
        Work(request_id="dear", steps=3),
        Work(request_id="bad", fail=True),
        Cancel(request_id="cheap"),
    )
    events = collect(driver, requests, until=6)
    done = {e.request_id: e for e in events if isinstance(e, Done | Failed | Cancelled)}
    assert done["dear"].thread.startswith("rxgen-cpu")
    # The cancel was emitted in the same turn as the request, before the inline work ran.
    assert done["cheap"] == Cancelled(request_id="cheap")
    assert done["bad"] == Failed(request_id="bad", error="RuntimeError", message="model exploded")


def test_inline_work_runs_on_the_loop_thread() -> None:
    driver: ThreadDriver[Work] = ThreadDriver(blocking_work, name="cpu", inline=lambda r: True)
    events = collect(driver, reactivex.of(Work(request_id="a", steps=2)), until=3)
    assert [type(e).__name__ for e in events] == ["Step", "Step", "Done"]
    assert events[-1].thread == threading.main_thread().name


def test_failure_becomes_a_failed_event_with_the_error() -> None:
    driver: ThreadDriver[Work] = ThreadDriver(blocking_work, name="cpu")
    events = collect(driver, reactivex.of(Work(request_id="a", fail=True)), until=1)
    assert events == [Failed(request_id="a", error="RuntimeError", message="model exploded")]


def test_answers_carry_the_request_scope() -> None:
    driver: ThreadDriver[Work] = ThreadDriver(blocking_work, name="cpu")
    events = collect(driver, reactivex.of(Work(request_id="a", scope=("child",))), until=2)
    assert all(e.scope == ("child",) for e in events)


def test_cancel_reaches_running_blocking_work() -> None:
    started = threading.Event()

    def slow(request: Work, ctx: Context[Work]) -> Done:
        started.set()
        while not ctx.cancelled:
            threading.Event().wait(0.001)
        ctx.raise_if_cancelled()
        raise AssertionError("unreachable")

    driver: ThreadDriver[Work] = ThreadDriver(slow, name="cpu")

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        got = asyncio.Event()
        requests: reactivex.subject.Subject[Any] = reactivex.subject.Subject()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            sources["work"].events().subscribe(lambda e: (seen.append(e), got.set()))
            return {"work": requests}

        runtime = run(main, {"work": driver})
        requests.on_next(Work(request_id="long"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        requests.on_next(Cancel(request_id="long"))
        await asyncio.wait_for(got.wait(), 5)
        runtime.dispose()
        return seen

    assert asyncio.run(scenario()) == [Cancelled(request_id="long")]


def test_cancel_of_queued_work_answers_without_running_it() -> None:
    ran: list[str] = []
    gate = threading.Event()

    def work(request: Work, ctx: Context[Work]) -> Done:
        ran.append(request.request_id)
        gate.wait(5)
        return Done(request_id=request.request_id, thread="")

    driver: ThreadDriver[Work] = ThreadDriver(work, name="cpu", max_workers=1)
    requests = reactivex.of(
        Work(request_id="first"), Work(request_id="second"), Cancel(request_id="second")
    )
    events = collect(driver, requests, until=1)
    gate.set()
    assert events == [Cancelled(request_id="second")]
    assert "second" not in ran


def test_async_driver_cancel_cancels_the_task() -> None:
    async def handler(request: Work, ctx: Context[Work]) -> Done:
        await asyncio.sleep(10)
        return Done(request_id=request.request_id, thread="")

    driver: AsyncDriver[Work] = AsyncDriver(handler, name="io")
    requests = reactivex.of(Work(request_id="x"), Cancel(request_id="x"))
    assert collect(driver, requests, until=1) == [Cancelled(request_id="x")]


def test_duplicate_request_id_is_refused() -> None:
    async def handler(request: Work, ctx: Context[Work]) -> None:
        await asyncio.sleep(0.01)

    driver: AsyncDriver[Work] = AsyncDriver(handler, name="io")
    events = collect(driver, reactivex.of(Work(request_id="x"), Work(request_id="x")), until=1)
    assert isinstance(events[0], Failed) and events[0].error == "DuplicateRequest"


def test_time_operators_get_the_loop_scheduler_not_a_thread() -> None:
    async def scenario() -> tuple[list[int], set[str]]:
        from reactivex import operators as ops

        seen: list[int] = []
        threads_before = {t.name for t in threading.enumerate()}
        done = asyncio.Event()
        reactivex.timer(0.001, 0.001, scheduler=loop_scheduler()).pipe(ops.take(3)).subscribe(
            seen.append, on_completed=done.set
        )
        await asyncio.wait_for(done.wait(), 2)
        return seen, {t.name for t in threading.enumerate()} - threads_before

    seen, new_threads = asyncio.run(scenario())
    assert seen == [0, 1, 2] and not new_threads
