"""Users and API tokens (stored hashed; revocable; dead for disabled users)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.store import users
from drivers.store.database import Database
from drivers.store.records import AlreadyExists

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_users_are_created_read_listed_and_changed(run: Any) -> None:
    async def scenario(db: Database) -> None:
        async with db.transaction() as session:
            ada = await users.create_user(session, "ada", role="admin", password_hash="h1", now=T0)
            bob = await users.create_user(session, "bob")
        assert ada.is_admin and not bob.is_admin and ada.created_at == T0
        async with db.transaction() as session:
            with pytest.raises(AlreadyExists):
                await users.create_user(session, "ada")
            with pytest.raises(ValueError, match="role"):
                await users.create_user(session, "eve", role="root")
        async with db.transaction() as session:
            assert await users.get_user_by_name(session, "bob") == bob
            assert await users.get_user_by_name(session, "nobody") is None
            assert [u.name for u in await users.list_users(session)] == ["ada", "bob"]
            assert await users.set_password_hash(session, bob.id, "h2")
            assert await users.set_role(session, bob.id, "admin")
            assert await users.set_disabled(session, bob.id)
            assert not await users.set_disabled(session, 999)
        async with db.transaction() as session:
            changed = await users.get_user(session, bob.id)
            assert changed is not None
            assert (changed.password_hash, changed.role, changed.disabled) == ("h2", "admin", True)
            enabled = await users.list_users(session, include_disabled=False)
            assert [u.name for u in enabled] == ["ada"]
            assert await users.count_users(session) == 2

    run(scenario)


def test_tokens_are_found_by_hash_until_revoked(run: Any) -> None:
    async def scenario(db: Database) -> None:
        async with db.transaction() as session:
            ada = await users.create_user(session, "ada")
            bob = await users.create_user(session, "bob")
            token = await users.create_token(
                session, ada.id, "laptop", "hash-1", ["write", "read", "read"], now=T0
            )
            with pytest.raises(AlreadyExists):
                await users.create_token(session, bob.id, "copy", "hash-1", [])
        assert token.scopes == ("read", "write") and token.last_used_at is None
        later = T0 + timedelta(hours=1)
        async with db.transaction() as session:
            found = await users.lookup_token(session, "hash-1", now=later)
            assert found is not None
            assert found[0].id == token.id and found[1].name == "ada"
            assert found[0].last_used_at == later
            # Uses within a minute are not written again; later ones are.
            soon = await users.lookup_token(session, "hash-1", now=later + timedelta(seconds=30))
            assert soon is not None and soon[0].last_used_at == later
            again = await users.lookup_token(session, "hash-1", now=later + timedelta(minutes=2))
            assert again is not None and again[0].last_used_at == later + timedelta(minutes=2)
            assert await users.lookup_token(session, "hash-2") is None
            assert [t.name for t in await users.list_tokens(session, ada.id)] == ["laptop"]
            assert await users.list_tokens(session, bob.id) == []
            # Another user cannot revoke it; its owner can, once.
            assert not await users.revoke_token(session, token.id, bob.id)
            assert await users.revoke_token(session, token.id, ada.id)
            assert not await users.revoke_token(session, token.id, ada.id)
        async with db.transaction() as session:
            assert await users.lookup_token(session, "hash-1") is None
            assert await users.list_tokens(session, ada.id) == []
            revoked = await users.list_tokens(session, ada.id, include_revoked=True)
            assert revoked[0].revoked_at is not None

    run(scenario)


def test_a_disabled_users_tokens_stop_working(run: Any) -> None:
    async def scenario(db: Database) -> None:
        async with db.transaction() as session:
            ada = await users.create_user(session, "ada")
            admin = await users.create_user(session, "root", role="admin")
            await users.create_token(session, ada.id, "t", "hash-a", ["read"])
            other = await users.create_token(session, ada.id, "t2", "hash-b", ["read"])
        async with db.transaction() as session:
            assert await users.lookup_token(session, "hash-a", touch=False) is not None
            await users.set_disabled(session, ada.id)
        async with db.transaction() as session:
            assert await users.lookup_token(session, "hash-a") is None
            # An admin may revoke anyone's token.
            assert await users.revoke_token(session, other.id, admin.id, admin=True)

    run(scenario)
