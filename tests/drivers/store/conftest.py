"""Fixtures for the store tests: every database test runs on SQLite and on PostgreSQL.

``target`` is parametrized over both. SQLite is a file in the test's tmp dir. PostgreSQL is
the server on 127.0.0.1:5432 (trust auth; the first of the users postgres, root and the OS
user that can connect): each test gets a database of its own, created empty and dropped after,
so runs in parallel never meet. When nothing listens on the port the PostgreSQL cases skip,
saying so, unless the environment variable ``CI`` is set: then they fail.

Tests are synchronous and drive their scenario with ``asyncio.run``, as the rest of the suite
does; ``run(scenario)`` opens the target database, migrates it, awaits ``scenario(db)`` and
disposes of the engine.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest

from drivers.store.database import Database, open_database

PG_HOST = "127.0.0.1"
PG_PORT = 5432
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Where a test's database lives: ``url`` None means the SQLite default in ``data_dir``."""

    dialect: str
    url: str | None
    data_dir: Path

    def open(self) -> Database:
        return open_database(self.url, self.data_dir)


@dataclass(frozen=True)
class PgServer:
    user: str
    admin_database: str

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@{PG_HOST}:{PG_PORT}/{database}"

    def dsn(self, database: str) -> str:
        return f"postgresql://{self.user}@{PG_HOST}:{PG_PORT}/{database}"


def _listening() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


async def _can_connect(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def _admin(server: PgServer, *statements: str) -> None:
    connection = await asyncpg.connect(server.dsn(server.admin_database), timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    if not _listening():
        message = f"PostgreSQL tests need a server on {PG_HOST}:{PG_PORT}; nothing listens there"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    users = list(dict.fromkeys(["postgres", "root", getpass.getuser()]))
    tried = []
    for user in users:
        for database in dict.fromkeys(["test", "postgres", user]):
            server = PgServer(user, database)
            tried.append(server.dsn(database))
            if asyncio.run(_can_connect(server.dsn(database))):
                return server
    pytest.fail(f"PostgreSQL listens on {PG_HOST}:{PG_PORT} but no connection worked: {tried}")


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", None, tmp_path)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"rxgen_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield Target("postgresql", server.url(name), tmp_path)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def run(target: Target) -> Callable[[Callable[[Database], Awaitable[Any]]], Any]:
    """``run(scenario)``: ``scenario(db)`` on a freshly migrated target database."""

    def runner(scenario: Callable[[Database], Awaitable[T]]) -> T:
        async def main() -> T:
            db = target.open()
            try:
                await db.migrate()
                return await scenario(db)
            finally:
                await db.dispose()

        return asyncio.run(main())

    return runner
