"""Users (roles admin/user) and their API tokens.

Passwords and tokens arrive already hashed: hashing (and showing a new token once) is the web
layer's job; this module never sees a secret. Token lookup ignores revoked tokens and disabled
users.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.records import AlreadyExists, TokenRecord, UserRecord, token_record, user_record
from drivers.store.sql import insert_ignore, rowcount
from drivers.store.tables import ROLES, ApiToken, User, utcnow

# A token's last use is written at most this often, so reads do not all become writes.
TOUCH_INTERVAL: Final = timedelta(seconds=60)


async def create_user(
    session: AsyncSession,
    name: str,
    *,
    role: str = "user",
    password_hash: str | None = None,
    now: datetime | None = None,
) -> UserRecord:
    """A new user; ``AlreadyExists`` if the name is taken."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    values = {
        "name": name,
        "role": role,
        "password_hash": password_hash,
        "created_at": now or utcnow(),
        "disabled": False,
    }
    user_id = await insert_ignore(session, User, values, returning=[User.id])
    if user_id is None:
        raise AlreadyExists(f"a user named {name!r} already exists")
    user = await get_user(session, int(user_id))
    assert user is not None
    return user


async def get_user(session: AsyncSession, user_id: int) -> UserRecord | None:
    row = await session.get(User, user_id, populate_existing=True)
    return None if row is None else user_record(row)


async def get_user_by_name(session: AsyncSession, name: str) -> UserRecord | None:
    row = (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()
    return None if row is None else user_record(row)


async def list_users(session: AsyncSession, *, include_disabled: bool = True) -> list[UserRecord]:
    statement = select(User).order_by(User.id)
    if not include_disabled:
        statement = statement.where(User.disabled.is_(False))
    return [user_record(row) for row in (await session.execute(statement)).scalars()]


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> bool:
    result = await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )
    return rowcount(result) == 1


async def set_role(session: AsyncSession, user_id: int, role: str) -> bool:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    result = await session.execute(update(User).where(User.id == user_id).values(role=role))
    return rowcount(result) == 1


async def set_disabled(session: AsyncSession, user_id: int, disabled: bool = True) -> bool:
    """Disable (or re-enable) a user; a disabled user's tokens stop working."""
    result = await session.execute(update(User).where(User.id == user_id).values(disabled=disabled))
    return rowcount(result) == 1


async def create_token(
    session: AsyncSession,
    user_id: int,
    name: str,
    token_hash: str,
    scopes: Iterable[str],
    *,
    now: datetime | None = None,
) -> TokenRecord:
    """Store a token by its hash (the caller shows the token itself once, then forgets it)."""
    values = {
        "user_id": user_id,
        "name": name,
        "token_hash": token_hash,
        "scopes": sorted(set(scopes)),
        "created_at": now or utcnow(),
    }
    token_id = await insert_ignore(session, ApiToken, values, returning=[ApiToken.id])
    if token_id is None:
        raise AlreadyExists("a token with this hash already exists")
    row = await session.get(ApiToken, int(token_id))
    assert row is not None
    return token_record(row)


async def list_tokens(
    session: AsyncSession, user_id: int | None, *, include_revoked: bool = False
) -> list[TokenRecord]:
    """``user_id``'s tokens (None: everyone's, for admins)."""
    statement = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        statement = statement.where(ApiToken.user_id == user_id)
    if not include_revoked:
        statement = statement.where(ApiToken.revoked_at.is_(None))
    return [token_record(row) for row in (await session.execute(statement)).scalars()]


async def revoke_token(
    session: AsyncSession,
    token_id: int,
    user_id: int,
    *,
    admin: bool = False,
    now: datetime | None = None,
) -> bool:
    """Revoke one of ``user_id``'s tokens (any token with ``admin``); False if none matched."""
    statement = (
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    if not admin:
        statement = statement.where(ApiToken.user_id == user_id)
    return rowcount(await session.execute(statement)) == 1


async def lookup_token(
    session: AsyncSession,
    token_hash: str,
    *,
    touch: bool = True,
    now: datetime | None = None,
) -> tuple[TokenRecord, UserRecord] | None:
    """The live token with this hash and its (enabled) user; records the use if ``touch``.

    ``last_used_at`` moves only when it is older than ``TOUCH_INTERVAL``.
    """
    statement = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked_at.is_(None),
            User.disabled.is_(False),
        )
    )
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    token, user = row
    if touch:
        used = now or utcnow()
        stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < used - TOUCH_INTERVAL)
        await session.execute(
            update(ApiToken).where(ApiToken.id == token.id, stale).values(last_used_at=used)
        )
        await session.refresh(token)
    return token_record(token), user_record(user)
