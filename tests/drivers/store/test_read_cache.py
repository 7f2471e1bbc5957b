"""The read cache answers from memory until a write commits, and never serves a read that
began before a write as if it were newer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from drivers.store import jobs as job_rows
from drivers.store import users as user_rows
from drivers.store.database import open_database
from drivers.store.read_cache import ReadCache


def test_reads_are_cached_until_a_write_commits(tmp_path: Path) -> None:
    async def scenario() -> None:
        database = open_database(None, tmp_path)
        await database.migrate()
        cache: ReadCache[int] = ReadCache(database.writes)
        async with database.transaction() as session:
            user = await user_rows.create_user(session, "ada", role="user", password_hash="x")
        reads = 0

        async def count() -> int:
            nonlocal reads
            reads += 1
            async with database.transaction() as session:
                page = await job_rows.list_jobs(session, user.id, limit=50)
            return len(page.items)

        assert await cache.get("jobs", count) == 0
        assert await cache.get("jobs", count) == 0
        assert reads == 1
        async with database.transaction() as session:  # a read-only transaction
            await job_rows.list_jobs(session, user.id)
        assert await cache.get("jobs", count) == 0 and reads == 1
        async with database.transaction() as session:
            await job_rows.insert_job(session, user.id, {"1": {}})
        assert await cache.get("jobs", count) == 1 and reads == 2
        async with database.transaction() as session:  # Core UPDATE, no ORM flush
            await job_rows.mark_running(session, (await job_rows.list_queued(session))[0].id)
        assert await cache.get("jobs", count) == 1 and reads == 3
        many = await asyncio.gather(*(cache.get("other", count) for _ in range(10)))
        assert many == [1] * 10 and reads == 4  # concurrent misses share one read
        await database.dispose()

    asyncio.run(scenario())


def test_a_read_overlapping_a_write_is_not_kept_as_fresh(tmp_path: Path) -> None:
    async def scenario() -> None:
        database = open_database(None, tmp_path)
        cache: ReadCache[str] = ReadCache(database.writes)
        started = asyncio.Event()
        release = asyncio.Event()

        async def slow_read() -> str:
            started.set()
            await release.wait()
            return "before"

        reader = asyncio.create_task(cache.get("k", slow_read))
        await started.wait()
        database.writes.value += 1  # a write commits while the read is in flight
        release.set()
        assert await reader == "before"

        async def fresh_read() -> str:
            return "after"

        assert await cache.get("k", fresh_read) == "after"
        await database.dispose()

    asyncio.run(scenario())
