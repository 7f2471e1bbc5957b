"""Persistence: the metadata database (SQLAlchemy async, SQLite or PostgreSQL) and artifacts.

- ``database``: ``open_database(url, data_dir)`` and ``await db.migrate()`` (Alembic).
- ``tables``: the schema; ``migrations/``: the Alembic revisions that create it.
- ``users``, ``workflows``, ``jobs``, ``artifacts_db``: async repository functions taking an
  ``AsyncSession``; they return frozen records (``records``) and see only the requesting
  user's rows unless ``admin=True``.
- ``artifacts``: the content-addressed file store; ``images``: upload re-encoding and
  thumbnails; ``paths``: ``safe_join`` and artifact name validation.
"""

from drivers.store.artifacts import ArtifactNotFound, ArtifactStat, ArtifactStore, Ingested, etag
from drivers.store.database import Database, alembic_config, open_database
from drivers.store.images import RejectedUpload
from drivers.store.paths import MEDIA_TYPES, UnsafePath, safe_join
from drivers.store.records import (
    AlreadyExists,
    ArtifactRecord,
    InvalidCursor,
    JobArtifactRecord,
    JobRecord,
    Page,
    RevisionRecord,
    StaleRevision,
    TokenRecord,
    UserRecord,
    WorkflowRecord,
)

__all__ = [
    "MEDIA_TYPES",
    "AlreadyExists",
    "ArtifactNotFound",
    "ArtifactRecord",
    "ArtifactStat",
    "ArtifactStore",
    "Database",
    "Ingested",
    "InvalidCursor",
    "JobArtifactRecord",
    "JobRecord",
    "Page",
    "RejectedUpload",
    "RevisionRecord",
    "StaleRevision",
    "TokenRecord",
    "UnsafePath",
    "UserRecord",
    "WorkflowRecord",
    "alembic_config",
    "etag",
    "open_database",
    "safe_join",
]
