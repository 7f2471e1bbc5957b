"""The clock and entropy drivers: time and randomness arrive as events, on the loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import reactivex
from reactivex import Observable

from drivers.clock import After, Every, Tick, clock_driver
from drivers.entropy import Draw, Drawn, entropy_driver
from rxcore import Cancel, Cancelled, Failed, run


def gather(
    driver: Any, requests: list[Any], until: int, later: list[Any] | None = None
) -> list[Any]:
    async def scenario() -> list[Any]:
        seen: list[Any] = []
        enough = asyncio.Event()
        sink: reactivex.subject.Subject[Any] = reactivex.subject.Subject()
        loop_thread = threading.get_ident()

        def note(event: Any) -> None:
            assert threading.get_ident() == loop_thread
            seen.append(event)
            if len(seen) == 2 and later:
                for request in later:
                    sink.on_next(request)
            if len(seen) >= until:
                enough.set()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            sources["d"].events().subscribe(note)
            return {"d": reactivex.merge(reactivex.from_iterable(requests), sink)}

        runtime = run(main, {"d": driver})
        try:
            await asyncio.wait_for(enough.wait(), 5)
        finally:
            runtime.dispose()
        return seen

    return asyncio.run(scenario())


def test_every_ticks_count_times_with_increasing_times() -> None:
    ticks = gather(clock_driver(), [Every(request_id="t", seconds=0.002, count=3)], until=3)
    assert [t.n for t in ticks] == [1, 2, 3] and [t.last for t in ticks] == [False, False, True]
    assert ticks[0].monotonic < ticks[1].monotonic < ticks[2].monotonic


def test_after_ticks_once_and_cancel_stops_a_timer() -> None:
    seen = gather(
        clock_driver(),
        [After(request_id="once", seconds=0.001), Every(request_id="loop", seconds=0.002)],
        until=3,
        later=[Cancel(request_id="loop")],
    )
    once = [e for e in seen if isinstance(e, Tick) and e.request_id == "once"]
    assert len(once) == 1 and once[0].last
    assert seen[-1] == Cancelled(request_id="loop")


def test_invalid_timer_fails_clearly() -> None:
    (failed,) = gather(clock_driver(), [Every(request_id="bad", seconds=-1)], until=1)
    assert isinstance(failed, Failed) and "seconds must be >= 0" in failed.message


def test_entropy_draws_in_range_and_refuses_bad_widths() -> None:
    seen = gather(
        entropy_driver(), [Draw(request_id="a", bits=8), Draw(request_id="b", bits=99)], until=2
    )
    drawn = [e for e in seen if isinstance(e, Drawn)]
    failed = [e for e in seen if isinstance(e, Failed)]
    assert len(drawn) == 1 and 0 <= drawn[0].value < 256
    assert "bits must be 1..64" in failed[0].message
