"""Opening the metadata database: SQLite (WAL) in the data dir by default, PostgreSQL by URL.

``open_database(url, data_dir)`` builds the async engine and session factory; nothing connects
until first use. ``await db.migrate()`` applies the Alembic migrations shipped in
``drivers/store/migrations`` (found next to this module, so it works from an installed wheel),
in one transaction that holds off other migrators (PostgreSQL: an advisory lock; SQLite: the
write lock), so processes starting together migrate once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

MIGRATIONS_DIR: Final = Path(__file__).resolve().with_name("migrations")
DATABASE_FILE: Final = "rxgen.db"
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
# pg_advisory_xact_lock key: any constant, the same for every rxgen process ("rxgen" + 1).
_MIGRATION_LOCK: Final = 0x7278_6765_6E00_0001

_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class DatabaseURLError(ValueError):
    """The URL names a database rxgen does not support."""


def database_url(url: str | None, data_dir: Path) -> URL:
    """The async URL to use: ``url`` with its async driver, else SQLite in ``data_dir``."""
    if url is None:
        return URL.create("sqlite+aiosqlite", database=str(Path(data_dir) / DATABASE_FILE))
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseURLError(
            f"unsupported database URL scheme {parsed.drivername!r}: use sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )
    return parsed.set(drivername=driver)


class WriteClock:
    """Counts committed transactions that wrote: a read cached at one value is still what the
    database holds while the value is unchanged (rxgen is the only writer: one process)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class TrackedSession(Session):
    """A session that notes whether it wrote (ORM flushes and Core DML alike)."""


def _note_flush(session: Session, _context: Any) -> None:
    session.info["wrote"] = True


def _note_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


event.listen(TrackedSession, "after_flush", _note_flush)
event.listen(TrackedSession, "do_orm_execute", _note_dml)


@dataclass(frozen=True, slots=True)
class Database:
    """An async engine and its session factory (``expire_on_commit=False``)."""

    url: URL
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writes: WriteClock = field(default_factory=WriteClock)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            if session.info.pop("wrote", False):
                self.writes.value += 1

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
        config = alembic_config(self.url)
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade, config)

    async def current_revision(self) -> str | None:
        """The schema's Alembic revision, None for an empty database."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current_revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(url: str | None, data_dir: Path, *, echo: bool = False) -> Database:
    """The database at ``url`` (default: SQLite ``<data_dir>/rxgen.db``, created on use)."""
    resolved = database_url(url, data_dir)
    options: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if resolved.get_backend_name() == "sqlite":
        database = resolved.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options = {"echo": echo}
    engine = create_async_engine(resolved, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    sessions = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)
    return Database(url=resolved, engine=engine, sessions=sessions)


def alembic_config(url: URL | str) -> Config:
    """An Alembic config for the shipped migrations; ``command.*`` may be called with it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: WAL may wait
        _enter_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enter_wal(cursor: Any) -> None:
    # Switching a fresh file to WAL needs its exclusive lock, and SQLite answers "database is
    # locked" at once, without the busy handler, when another connection is mid-switch or holds
    # a read lock it must upgrade (deadlock avoidance). That only happens while processes open a
    # new database together, so retrying here (briefly blocking the loop) is the whole cure.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _upgrade(connection: Connection, config: Config) -> None:
    # One migrator at a time, and all of a migration or none of it: PostgreSQL takes an advisory
    # lock in the (transactional DDL) transaction; SQLite takes the write lock for the whole
    # upgrade (the driver would otherwise run each DDL statement in its own transaction).
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
