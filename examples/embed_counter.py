"""rxgen as a plain library: count five clock ticks, print each count, then stop.

    python examples/embed_counter.py [LOG_DIR]

With LOG_DIR the session is recorded; `rxgen log verify LOG_DIR` then replays it.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import reactivex
from reactivex import operators as ops

from drivers.clock import Every, Tick, clock_driver
from drivers.console import Print, console_driver
from rxcore import Reducer, run_until_done, with_state


def counter(sources: dict[str, Any]) -> dict[str, reactivex.Observable[Any]]:
    ticks = sources["clock"].select(Tick).pipe(ops.take_while(lambda t: not t.last, True))
    count = sources["state"].stream
    return {
        "clock": reactivex.of(Every(request_id="ticks", seconds=0.01, count=5)),
        "state": reactivex.concat(
            reactivex.of(Reducer("start", lambda _: 0)),
            ticks.pipe(ops.map(lambda _: Reducer("increment", lambda n: n + 1))),
        ),
        "console": count.pipe(
            ops.skip(1), ops.take(5), ops.map(lambda n: Print(text=f"count = {n}"))
        ),
    }


main = with_state(counter)

if __name__ == "__main__":
    log = sys.argv[1] if len(sys.argv) > 1 else None
    asyncio.run(
        run_until_done(main, {"clock": clock_driver(), "console": console_driver()}, log=log)
    )
