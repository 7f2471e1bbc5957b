"""Answers to hot reads (a user's job list, the history), kept until the next write commits.

Dashboards and ComfyUI clients poll these lists far more often than jobs change: jobs are
written when they are queued, start and end, not on every progress step. An entry is tagged
with the database's write clock as it was before the read began, so a write that commits
during the read leaves the entry stale rather than wrongly fresh. Concurrent misses for the
same key share one read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from drivers.store.database import WriteClock

T = TypeVar("T")


class ReadCache(Generic[T]):
    def __init__(self, clock: WriteClock, max_entries: int = 1024) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._flights: dict[tuple[Hashable, int], asyncio.Future[T]] = {}
        self.hits = 0
        self.misses = 0

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        version = self.clock.value
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]
        flight = self._flights.get((key, version))
        if flight is not None:
            self.hits += 1
            return await asyncio.shield(flight)
        self.misses += 1
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._flights[(key, version)] = future
        try:
            value = await read()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters (if any) see it; none is fine too
            raise
        finally:
            self._flights.pop((key, version), None)
        future.set_result(value)
        self._entries[key] = (version, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value
