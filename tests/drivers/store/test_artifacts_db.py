"""Artifact ownership: shared blobs, per-user holds, job outputs, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.store import artifacts_db, jobs, users
from drivers.store.database import Database

T0 = datetime(2025, 5, 1, tzinfo=UTC)
SHA_A = "a" * 64
SHA_B = "b" * 64


async def _setup(db: Database) -> tuple[int, int, int]:
    async with db.transaction() as session:
        ada = await users.create_user(session, "ada")
        bob = await users.create_user(session, "bob")
        eve = await users.create_user(session, "eve")
        for sha in (SHA_A, SHA_B):
            await artifacts_db.record_blob(
                session, sha, ext="png", size=10, media_type="image/png", width=4, height=2
            )
    return ada.id, bob.id, eve.id


def test_two_users_share_a_blob_but_see_only_their_own_hold(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, eve = await _setup(db)
        async with db.transaction() as session:
            await artifacts_db.record_blob(session, SHA_A, ext="png", size=10, media_type="x")
            assert await artifacts_db.claim_artifact(
                session, ada, SHA_A, kind="upload", name="a.png"
            )
            assert await artifacts_db.claim_artifact(
                session, bob, SHA_A, kind="upload", name="b.png"
            )
            assert not await artifacts_db.claim_artifact(session, bob, SHA_A, kind="upload")
            with pytest.raises(ValueError, match="kind"):
                await artifacts_db.claim_artifact(session, bob, SHA_B, kind="stolen")
        async with db.transaction() as session:
            mine = await artifacts_db.get_artifact(session, SHA_A, ada)
            theirs = await artifacts_db.get_artifact(session, SHA_A, bob)
            assert mine is not None and theirs is not None
            assert (mine.name, theirs.name) == ("a.png", "b.png")
            assert mine.media_type == "image/png" and (mine.width, mine.height) == (4, 2)
            assert await artifacts_db.get_artifact(session, SHA_A, eve) is None
            assert await artifacts_db.get_artifact(session, SHA_B, ada) is None
            assert await artifacts_db.get_artifact(session, SHA_A, eve, admin=True) is not None
            assert await artifacts_db.release_artifact(session, ada, SHA_A)
        async with db.transaction() as session:
            assert await artifacts_db.get_artifact(session, SHA_A, ada) is None
            assert await artifacts_db.get_artifact(session, SHA_A, bob) is not None

    run(scenario)


def test_job_outputs_belong_to_the_jobs_owner(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, _ = await _setup(db)
        async with db.transaction() as session:
            job = await jobs.insert_job(session, ada, {})
            assert await artifacts_db.link_job_output(session, job.id, "9", 0, SHA_A)
            assert await artifacts_db.link_job_output(session, job.id, "9", 1, SHA_B)
            assert await artifacts_db.link_job_output(session, job.id, "9", 1, SHA_B)  # again
            assert not await artifacts_db.link_job_output(session, "no-such-job", "9", 0, SHA_A)
        async with db.transaction() as session:
            outputs = await artifacts_db.list_job_outputs(session, job.id, ada)
            assert outputs is not None
            assert [(o.node_id, o.position, o.sha256) for o in outputs] == [
                ("9", 0, SHA_A),
                ("9", 1, SHA_B),
            ]
            held = await artifacts_db.get_artifact(session, SHA_B, ada)
            assert held is not None and held.kind == "output"
            assert await artifacts_db.list_job_outputs(session, job.id, bob) is None
            assert await artifacts_db.get_artifact(session, SHA_B, bob) is None
            assert await artifacts_db.list_job_outputs(session, job.id, bob, admin=True) == outputs

    run(scenario)


def test_the_gallery_lists_a_users_artifacts_newest_first(run: Any) -> None:
    async def scenario(db: Database) -> None:
        ada, bob, _ = await _setup(db)
        shas = [f"{i:064x}" for i in range(5)]
        async with db.transaction() as session:
            for i, sha in enumerate(shas):
                await artifacts_db.record_blob(session, sha, ext="png", size=1, media_type="x")
                kind = "upload" if i % 2 else "output"
                when = T0 + timedelta(minutes=i // 2)
                await artifacts_db.claim_artifact(session, ada, sha, kind=kind, now=when)
            await artifacts_db.claim_artifact(session, bob, SHA_A, kind="upload")
        seen: list[str] = []
        cursor = None
        async with db.transaction() as session:
            while True:
                page = await artifacts_db.list_artifacts(session, ada, limit=2, cursor=cursor)
                seen += [a.sha256 for a in page.items]
                if (cursor := page.next_cursor) is None:
                    break
            uploads = await artifacts_db.list_artifacts(session, ada, kind="upload")
        assert seen == [shas[4], shas[3], shas[2], shas[1], shas[0]]
        assert [a.sha256 for a in uploads.items] == [shas[3], shas[1]]

    run(scenario)
