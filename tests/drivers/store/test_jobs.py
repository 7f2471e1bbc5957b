"""Jobs: submit, read, list with filters and cursors, transitions, and recovery after a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.store import jobs, users
from drivers.store.database import Database
from drivers.store.records import AlreadyExists, InvalidCursor
from tests.drivers.store.conftest import Target

REPO = Path(__file__).resolve().parents[3]
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROMPT = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64}}}


async def _users(db: Database) -> tuple[int, int, int]:
    async with db.transaction() as session:
        ada = await users.create_user(session, "ada")
        bob = await users.create_user(session, "bob")
        root = await users.create_user(session, "root", role="admin")
    return ada.id, bob.id, root.id


def test_jobs_are_numbered_in_order_and_visible_only_to_their_owner(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, root = await _users(db)
        async with db.transaction() as session:
            first = await jobs.insert_job(session, ada, PROMPT, client_id="c1", now=T0)
            second = await jobs.insert_job(session, bob, PROMPT, job_id="given-id", priority=5)
            with pytest.raises(AlreadyExists):
                await jobs.insert_job(session, ada, PROMPT, job_id="given-id")
        assert first.status == "queued" and first.attempts == 0 and first.created_at == T0
        assert first.prompt == PROMPT and first.client_id == "c1"
        assert second.id == "given-id" and second.number > first.number
        async with db.transaction() as session:
            assert await jobs.get_job(session, first.id, ada) == first
            assert await jobs.get_job(session, first.id, bob) is None
            assert await jobs.get_job(session, first.id, root, admin=True) == first
            assert await jobs.cancel_job(session, first.id, bob) is None
            assert not await jobs.delete_job(session, first.id, bob)
            assert [j.id for j in (await jobs.list_jobs(session, bob)).items] == ["given-id"]
            everyone = await jobs.list_jobs(session, root, admin=True)
            assert [j.id for j in everyone.items] == ["given-id", first.id]
            # A non-admin's owner filter does not widen what they see.
            assert (await jobs.list_jobs(session, bob, owner=ada)).items[0].id == "given-id"

    run(scenario)


def test_listing_filters_by_status_owner_workflow_and_creation_time(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, root = await _users(db)
        async with db.transaction() as session:
            made = [
                await jobs.insert_job(
                    session, ada if i % 2 == 0 else bob, PROMPT, now=T0 + timedelta(hours=i)
                )
                for i in range(6)
            ]
            await jobs.mark_running(session, made[0].id)
            await jobs.mark_running(session, made[2].id)
            await jobs.mark_finished(session, made[2].id, {"9": {"images": []}})

        async def ids(viewer: int, **filters: Any) -> list[str]:
            async with db.transaction() as session:
                page = await jobs.list_jobs(session, viewer, **filters)
            return [j.id for j in page.items]

        assert await ids(ada, status="queued") == [made[4].id]
        assert await ids(ada, status=["running", "finished"]) == [made[2].id, made[0].id]
        assert await ids(root, admin=True, owner=bob) == [made[5].id, made[3].id, made[1].id]
        window = {
            "created_after": T0 + timedelta(hours=1),
            "created_before": T0 + timedelta(hours=4),
        }
        assert await ids(root, admin=True, **window) == [made[3].id, made[2].id, made[1].id]
        assert await ids(ada, oldest_first=True) == [made[0].id, made[2].id, made[4].id]
        with pytest.raises(ValueError, match="unknown job status"):
            await ids(ada, status="exploded")

    run(scenario)


def test_cursor_pages_neither_repeat_nor_skip_while_jobs_arrive(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _users(db)

        async def submit(count: int) -> list[str]:
            async with db.transaction() as session:
                return [(await jobs.insert_job(session, ada, PROMPT)).id for _ in range(count)]

        before = await submit(25)
        for oldest_first in (False, True):
            seen: list[str] = []
            numbers: list[int] = []
            cursor = None
            while True:
                async with db.transaction() as session:
                    page = await jobs.list_jobs(
                        session, ada, limit=7, cursor=cursor, oldest_first=oldest_first
                    )
                seen += [j.id for j in page.items]
                numbers += [j.number for j in page.items]
                await submit(3)  # new jobs between pages
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert len(seen) == len(set(seen))
            assert numbers == sorted(numbers, reverse=not oldest_first)
            if oldest_first:
                assert seen[: len(before)] == before  # then the ones that arrived meanwhile
            else:
                assert seen == before[::-1]  # newer arrivals sort before the first page
        async with db.transaction() as session:
            desc_cursor = (await jobs.list_jobs(session, ada, limit=1)).next_cursor
            assert desc_cursor is not None
            with pytest.raises(InvalidCursor):
                await jobs.list_jobs(session, ada, cursor=desc_cursor, oldest_first=True)
            for bogus in ("", "!!!", "eyJsIjoiam9icyJ9", desc_cursor[:-3]):
                with pytest.raises(InvalidCursor):
                    await jobs.list_jobs(session, ada, cursor=bogus)

    run(scenario)


def test_transitions_are_compare_and_set(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _users(db)
        async with db.transaction() as session:
            a, b, c, d = [await jobs.insert_job(session, ada, PROMPT) for _ in range(4)]
        async with db.transaction() as session:
            running = await jobs.mark_running(session, a.id, now=T0)
            assert running is not None
            assert (running.status, running.attempts, running.started_at) == ("running", 1, T0)
            assert await jobs.mark_running(session, a.id) is None  # not queued any more
            assert not await jobs.mark_finished(session, b.id, {})  # never ran
            assert await jobs.mark_finished(session, a.id, {"9": {"images": ["x"]}}, now=T0)
            assert await jobs.mark_failed(session, b.id, {"type": "invalid_prompt"})
            assert not await jobs.mark_failed(session, a.id, {"type": "late"})
        async with db.transaction() as session:
            done = await jobs.get_job(session, a.id, ada)
            assert done is not None and done.status == "finished" and done.finished_at == T0
            assert done.outputs == {"9": {"images": ["x"]}} and done.error is None
            # Cancelling: a queued job directly; a running one (the caller interrupts it).
            queued = await jobs.cancel_job(session, c.id, ada)
            assert queued is not None and queued.was == "queued" and queued.changed
            assert queued.job.status == "cancelled"
            await jobs.mark_running(session, d.id)
            live = await jobs.cancel_job(session, d.id, ada)
            assert live is not None and live.was == "running" and live.job.status == "cancelled"
            assert not await jobs.mark_finished(session, d.id, {})  # the run lost the race
            over = await jobs.cancel_job(session, a.id, ada)
            assert over is not None and not over.changed and over.job.status == "finished"
            assert await jobs.delete_job(session, a.id, ada)
            assert await jobs.get_job(session, a.id, ada) is None

    run(scenario)


def test_the_queue_is_restored_by_priority_then_number(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, _ = await _users(db)
        async with db.transaction() as session:
            low = await jobs.insert_job(session, ada, PROMPT)
            high = await jobs.insert_job(session, bob, PROMPT, priority=10)
            low2 = await jobs.insert_job(session, bob, PROMPT)
            gone = await jobs.insert_job(session, ada, PROMPT)
            await jobs.mark_running(session, gone.id)
            assert not await jobs.delete_job(session, gone.id, ada)  # not while running
        async with db.transaction() as session:
            queued = await jobs.list_queued(session)
        assert [j.id for j in queued] == [high.id, low.id, low2.id]

    run(scenario)


async def _crash_scene(db: Database) -> dict[str, str]:
    """A queued, a finished, a running (1st attempt) and a running (3rd attempt) job."""
    async with db.transaction() as session:
        ada = await users.create_user(session, "ada")
        queued = await jobs.insert_job(session, ada.id, PROMPT)
        finished = await jobs.insert_job(session, ada.id, PROMPT)
        fresh = await jobs.insert_job(session, ada.id, PROMPT)
        tired = await jobs.insert_job(session, ada.id, PROMPT)
        await jobs.mark_running(session, finished.id)
        await jobs.mark_finished(session, finished.id, {"9": {"images": ["abc"]}})
        for attempt in range(3):
            await jobs.mark_running(session, tired.id)
            if attempt < 2:
                await jobs.recover_after_restart(session, "requeue")
        await jobs.mark_running(session, fresh.id)
    return {"queued": queued.id, "finished": finished.id, "fresh": fresh.id, "tired": tired.id}


async def _statuses(db: Database, ids: dict[str, str]) -> dict[str, tuple[str, int]]:
    async with db.transaction() as session:
        found = {
            name: await jobs.get_job(session, job_id, 0, admin=True) for name, job_id in ids.items()
        }
    return {name: (job.status, job.attempts) for name, job in found.items() if job is not None}


def _reopen(target: Target, policy: jobs.RecoveryPolicy, ids: dict[str, str]) -> Any:
    async def main() -> tuple[jobs.Recovery, dict[str, tuple[str, int]], Any]:
        db = target.open()
        try:
            await db.migrate()
            async with db.transaction() as session:
                recovery = await jobs.recover_after_restart(session, policy, max_attempts=3)
            async with db.transaction() as session:
                finished = await jobs.get_job(session, ids["finished"], 0, admin=True)
                fresh = await jobs.get_job(session, ids["fresh"], 0, admin=True)
            return recovery, await _statuses(db, ids), (finished, fresh)
        finally:
            await db.dispose()

    return asyncio.run(main())


@pytest.mark.parametrize("policy", ["requeue", "fail"])
def test_recovery_after_a_restart(target: Target, policy: jobs.RecoveryPolicy) -> None:
    async def before() -> dict[str, str]:
        db = target.open()
        try:
            await db.migrate()
            return await _crash_scene(db)
        finally:
            await db.dispose()

    ids = asyncio.run(before())
    recovery, statuses, (finished, fresh) = _reopen(target, policy, ids)
    assert statuses["queued"] == ("queued", 0)
    assert statuses["finished"] == ("finished", 1)
    assert finished.outputs == {"9": {"images": ["abc"]}}
    assert statuses["tired"] == ("interrupted", 3)
    if policy == "requeue":
        assert recovery == jobs.Recovery(requeued=(ids["fresh"],), interrupted=(ids["tired"],))
        assert statuses["fresh"] == ("queued", 1)
        assert fresh.started_at is None and fresh.error == jobs.INTERRUPTED_ERROR
    else:
        assert recovery.requeued == ()
        assert sorted(recovery.interrupted) == sorted([ids["fresh"], ids["tired"]])
        assert statuses["fresh"] == ("interrupted", 1)
        assert fresh.finished_at is not None


def test_an_unknown_recovery_policy_is_refused(run: Any) -> None:
    async def scenario(db: Database) -> None:
        async with db.transaction() as session:
            with pytest.raises(ValueError, match="policy"):
                await jobs.recover_after_restart(session, "retry")  # type: ignore[arg-type]

    run(scenario)


CRASH = """
import asyncio, json, os, signal, sys
from pathlib import Path
from drivers.store.database import open_database
from tests.drivers.store.test_jobs import _crash_scene

async def main():
    db = open_database(sys.argv[1] or None, Path(sys.argv[2]))
    await db.migrate()
    print(json.dumps(await _crash_scene(db)), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no dispose, no checkpoint, no goodbye

asyncio.run(main())
"""


def test_jobs_survive_kill_9(target: Target) -> None:
    import json

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), target.url or "", str(target.data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    ids = json.loads(result.stdout)
    recovery, statuses, (finished, _) = _reopen(target, "requeue", ids)
    assert recovery.requeued == (ids["fresh"],)
    assert statuses == {
        "queued": ("queued", 0),
        "finished": ("finished", 1),
        "fresh": ("queued", 1),
        "tired": ("interrupted", 3),
    }
    assert finished.outputs == {"9": {"images": ["abc"]}}
