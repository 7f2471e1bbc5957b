"""Opening the database and migrating it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError

from drivers.store import jobs, users
from drivers.store.database import (
    MIGRATIONS_DIR,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    DatabaseURLError,
    database_url,
    head_revision,
    open_database,
)
from drivers.store.tables import metadata
from tests.drivers.store.conftest import Target

REPO = Path(__file__).resolve().parents[3]


def test_migrations_run_from_an_empty_database(target: Target) -> None:
    async def scenario() -> None:
        db = target.open()
        try:
            assert await db.current_revision() is None
            await db.migrate()
            assert await db.current_revision() == head_revision() == "0002"
            await db.migrate()  # already at head: nothing to do
            async with db.engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert tables == set(metadata.tables) | {"alembic_version"}
        finally:
            await db.dispose()

    asyncio.run(scenario())


def test_the_migrated_schema_matches_the_models(run: Any) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async def scenario(db: Database) -> None:
        async with db.engine.connect() as connection:
            assert await connection.run_sync(differences) == []

    run(scenario)


def test_foreign_keys_are_enforced(run: Any) -> None:
    async def scenario(db: Database) -> None:
        with pytest.raises(IntegrityError):
            async with db.transaction() as session:
                await jobs.insert_job(session, 12345, {"1": {}})

    run(scenario)


def test_timestamps_come_back_timezone_aware_utc(run: Any) -> None:
    async def scenario(db: Database) -> None:
        async with db.transaction() as session:
            user = await users.create_user(session, "ada")
        async with db.transaction() as session:
            again = await users.get_user(session, user.id)
        assert again is not None
        assert again.created_at.utcoffset() is not None
        assert again.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert again.created_at == user.created_at

    run(scenario)


def test_sqlite_is_the_default_with_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    async def scenario() -> list[Any]:
        db = open_database(None, tmp_path / "data")
        try:
            async with db.engine.connect() as connection:
                return [
                    (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                ]
        finally:
            await db.dispose()

    assert asyncio.run(scenario()) == ["wal", 1, SQLITE_BUSY_TIMEOUT_MS, 1]
    assert (tmp_path / "data" / "rxgen.db").is_file()


def test_database_urls_get_their_async_driver(tmp_path: Path) -> None:
    assert database_url(None, tmp_path).render_as_string() == (
        f"sqlite+aiosqlite:///{tmp_path}/rxgen.db"
    )
    pg = database_url("postgresql://u:p%40ss@db:5432/rx", tmp_path)
    assert pg.drivername == "postgresql+asyncpg" and pg.password == "p@ss"
    assert database_url("postgres://u@db/rx", tmp_path).drivername == "postgresql+asyncpg"
    assert database_url("sqlite:///x.db", tmp_path).drivername == "sqlite+aiosqlite"
    with pytest.raises(DatabaseURLError, match="mysql"):
        database_url("mysql://u@db/rx", tmp_path)


def test_migrations_ship_as_package_data() -> None:
    assert MIGRATIONS_DIR == REPO / "drivers" / "store" / "migrations"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["drivers.store"]
    package = REPO / "drivers" / "store"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    needed = {
        path
        for path in MIGRATIONS_DIR.rglob("*")
        if path.suffix in (".py", ".mako") and "__pycache__" not in path.parts
    }
    assert needed <= shipped
    assert MIGRATIONS_DIR / "env.py" in needed
    dependencies = " ".join(pyproject["project"]["dependencies"])
    for name in ("sqlalchemy[asyncio]", "alembic", "aiosqlite", "asyncpg"):
        assert name in dependencies


def test_processes_starting_together_migrate_once(target: Target) -> None:
    async def scenario() -> list[str | None]:
        databases = [target.open() for _ in range(3)]
        try:
            await asyncio.gather(*(db.migrate() for db in databases))
            return [await db.current_revision() for db in databases]
        finally:
            for db in databases:
                await db.dispose()

    assert asyncio.run(scenario()) == ["0002"] * 3


def test_a_sqlite_connection_waits_for_a_writer_before_entering_wal(tmp_path: Path) -> None:
    # While another connection writes to a file still in rollback mode, SQLite refuses the
    # switch to WAL at once, without the busy wait ("database is locked"): processes opening a
    # new database together hit this about one start in fifty.
    writer = sqlite3.connect(tmp_path / "rxgen.db", isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE held (n INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO held VALUES (1)")
    release = threading.Timer(0.3, writer.execute, ("COMMIT",))
    release.start()

    async def scenario() -> tuple[str | None, str]:
        db = open_database(None, tmp_path)
        try:
            revision = await db.current_revision()
            async with db.engine.connect() as connection:
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            return revision, str(mode)
        finally:
            await db.dispose()

    try:
        assert asyncio.run(scenario()) == (None, "wal")
    finally:
        release.join()
        writer.close()


def test_a_failed_migration_leaves_nothing_behind(target: Target, monkeypatch: Any) -> None:
    from alembic import op

    real_create_index = op.create_index

    def failing_create_index(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ix_job_artifacts_sha256":
            raise RuntimeError("disk on fire")
        return real_create_index(name, *args, **kwargs)

    async def scenario() -> tuple[str | None, set[str]]:
        db = target.open()
        try:
            with pytest.raises(RuntimeError, match="disk on fire"):
                await db.migrate()
            async with db.engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            return await db.current_revision(), tables
        finally:
            await db.dispose()

    monkeypatch.setattr(op, "create_index", failing_create_index)
    assert asyncio.run(scenario()) == (None, set())
