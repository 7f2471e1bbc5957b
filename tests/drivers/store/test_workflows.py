"""Workflows: CRUD with revisions, stale writes, history, and isolation between users."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.store import jobs, users, workflows
from drivers.store.database import Database
from drivers.store.records import InvalidCursor, StaleRevision

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DOC1 = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64}}}
DOC2 = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 128}}}
DOC3 = {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 256}}}


async def _two_users(db: Database) -> tuple[int, int, int]:
    async with db.transaction() as session:
        ada = await users.create_user(session, "ada")
        bob = await users.create_user(session, "bob")
        root = await users.create_user(session, "root", role="admin")
    return ada.id, bob.id, root.id


def test_create_read_update_and_history(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _two_users(db)
        async with db.transaction() as session:
            created = await workflows.create_workflow(session, ada, "first", DOC1, now=T0)
        assert (created.revision, created.document, created.created_at) == (1, DOC1, T0)
        async with db.transaction() as session:
            updated = await workflows.update_workflow(
                session, created.id, ada, expected_revision=1, document=DOC2, now=T0 + timedelta(1)
            )
        assert updated is not None
        assert (updated.revision, updated.document, updated.name) == (2, DOC2, "first")
        assert updated.updated_at == T0 + timedelta(1) and updated.created_at == T0
        async with db.transaction() as session:
            renamed = await workflows.update_workflow(
                session, created.id, ada, expected_revision=2, name="renamed"
            )
            assert renamed is not None and renamed.document == DOC2 and renamed.revision == 3
            history = await workflows.list_revisions(session, created.id, ada)
            assert history is not None
            assert [(r.revision, r.name, r.document) for r in history] == [
                (1, "first", DOC1),
                (2, "first", DOC2),
                (3, "renamed", DOC2),
            ]
            first = await workflows.get_revision(session, created.id, 1, ada)
            assert first is not None and first.document == DOC1
            assert await workflows.get_revision(session, created.id, 9, ada) is None

    run(scenario)


def test_a_stale_revision_raises_with_the_current_document(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _two_users(db)
        async with db.transaction() as session:
            wf = await workflows.create_workflow(session, ada, "w", DOC1)
            await workflows.update_workflow(session, wf.id, ada, expected_revision=1, document=DOC2)
        with pytest.raises(StaleRevision) as raised:
            async with db.transaction() as session:
                await workflows.update_workflow(
                    session, wf.id, ada, expected_revision=1, document=DOC3
                )
        assert raised.value.current.revision == 2
        assert raised.value.current.document == DOC2
        with pytest.raises(StaleRevision):
            async with db.transaction() as session:
                await workflows.delete_workflow(session, wf.id, ada, expected_revision=1)
        async with db.transaction() as session:
            kept = await workflows.get_workflow(session, wf.id, ada)
        assert kept is not None and kept.document == DOC2

    run(scenario)


def test_two_writers_from_one_revision_one_wins(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _two_users(db)
        async with db.transaction() as session:
            wf = await workflows.create_workflow(session, ada, "w", DOC1)

        async def write(document: dict[str, Any]) -> str:
            try:
                async with db.transaction() as session:
                    await workflows.update_workflow(
                        session, wf.id, ada, expected_revision=1, document=document
                    )
            except StaleRevision as stale:
                assert stale.current.revision == 2
                return "stale"
            return "won"

        outcomes = await asyncio.gather(write(DOC2), write(DOC3))
        assert sorted(outcomes) == ["stale", "won"]
        async with db.transaction() as session:
            history = await workflows.list_revisions(session, wf.id, ada)
        assert history is not None and [r.revision for r in history] == [1, 2]

    run(scenario)


def test_another_users_workflow_is_invisible(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, root = await _two_users(db)
        async with db.transaction() as session:
            wf = await workflows.create_workflow(session, ada, "private", DOC1)
        async with db.transaction() as session:
            assert await workflows.get_workflow(session, wf.id, bob) is None
            assert (
                await workflows.update_workflow(
                    session, wf.id, bob, expected_revision=1, document=DOC2
                )
                is None
            )
            assert not await workflows.delete_workflow(session, wf.id, bob)
            assert await workflows.list_revisions(session, wf.id, bob) is None
            assert await workflows.get_revision(session, wf.id, 1, bob) is None
            assert (await workflows.list_workflows(session, bob)).items == ()
            # Admins see everything, and may filter by owner.
            assert await workflows.get_workflow(session, wf.id, root, admin=True) is not None
            listed = await workflows.list_workflows(session, root, admin=True, owner=ada)
            assert [w.id for w in listed.items] == [wf.id]
            assert (
                await workflows.list_workflows(session, root, admin=True, owner=bob)
            ).items == ()
            # A non-admin's owner filter does not widen what they see.
            assert (await workflows.list_workflows(session, bob, owner=ada)).items == ()
        async with db.transaction() as session:
            mine = await workflows.get_workflow(session, wf.id, ada)
        assert mine is not None and mine.document == DOC1

    run(scenario)


def test_delete_drops_history_and_detaches_jobs(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _two_users(db)
        async with db.transaction() as session:
            wf = await workflows.create_workflow(session, ada, "w", DOC1)
            job = await jobs.insert_job(session, ada, DOC1, workflow_id=wf.id)
        async with db.transaction() as session:
            assert await workflows.delete_workflow(session, wf.id, ada, expected_revision=1)
            assert not await workflows.delete_workflow(session, wf.id, ada)
        async with db.transaction() as session:
            assert await workflows.get_workflow(session, wf.id, ada) is None
            assert await workflows.list_revisions(session, wf.id, ada) is None
            kept = await jobs.get_job(session, job.id, ada)
        assert kept is not None and kept.workflow_id is None

    run(scenario)


def test_listing_pages_by_last_update(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, _, _ = await _two_users(db)
        async with db.transaction() as session:
            made = [
                await workflows.create_workflow(
                    session, ada, f"w{i}", DOC1, now=T0 + timedelta(minutes=i // 2)
                )
                for i in range(7)
            ]
        seen: list[str] = []
        cursor = None
        async with db.transaction() as session:
            while True:
                page = await workflows.list_workflows(session, ada, limit=3, cursor=cursor)
                seen += [w.id for w in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            with pytest.raises(InvalidCursor):
                await workflows.list_workflows(session, ada, cursor="bogus")
        expected = sorted(made, key=lambda w: (w.updated_at, w.id), reverse=True)
        assert seen == [w.id for w in expected]

    run(scenario)
