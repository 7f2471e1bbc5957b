"""SQL helpers the repositories share: dialect-aware upserts and row counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from drivers.store.tables import Base


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def insert_ignore(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    *,
    returning: Sequence[Any] = (),
) -> Any | None:
    """``INSERT ... ON CONFLICT DO NOTHING``: the first returned value (or True) if inserted.

    None when a row with the same unique key already existed (nothing was written). One
    statement, so it is atomic on both dialects and needs no savepoint.
    """
    dialect = dialect_name(session)
    if dialect == "postgresql":
        statement: Any = postgresql.insert(model).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - open_database accepts only these two
        raise NotImplementedError(dialect)
    if returning:
        row = (await session.execute(statement.returning(*returning))).first()
        return None if row is None else row[0]
    result = await session.execute(statement)
    return True if rowcount(result) else None


def rowcount(result: object) -> int:
    """Rows matched by an UPDATE/DELETE (``Result`` types it loosely)."""
    return int(cast(CursorResult[Any], result).rowcount)
