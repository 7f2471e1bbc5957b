"""Initial schema: users, API tokens, workflows with revisions, jobs, artifacts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON()


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'user')", name="ck_users_role"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("scopes", _JSON, nullable=False),
        _timestamp("created_at"),
        _timestamp("last_used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id_created_at", "api_tokens", ["user_id", "created_at"])
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_workflows_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
    )
    op.create_index("ix_workflows_user_id_updated_at", "workflows", ["user_id", "updated_at"])
    op.create_table(
        "workflow_revisions",
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_workflow_revisions_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", "revision", name="pk_workflow_revisions"),
    )
    op.create_table(
        "jobs",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=True),
        sa.Column("prompt", _JSON, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.Column("outputs", _JSON, nullable=True),
        sa.Column("error", _JSON, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'finished', 'failed', 'cancelled', 'interrupted')",
            name="ck_jobs_status",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_jobs_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_jobs_workflow_id_workflows",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("number", name="pk_jobs"),
        sa.UniqueConstraint("id", name="uq_jobs_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_jobs_user_id_number", "jobs", ["user_id", "number"])
    op.create_index("ix_jobs_status_priority_number", "jobs", ["status", "priority", "number"])
    op.create_index("ix_jobs_user_id_status_number", "jobs", ["user_id", "status", "number"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_jobs_workflow_id", "jobs", ["workflow_id"])
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("ext", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )
    op.create_table(
        "artifact_owners",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "kind IN ('upload', 'output', 'thumbnail')", name="ck_artifact_owners_kind"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_artifact_owners_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["blobs.sha256"],
            name="fk_artifact_owners_sha256_blobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "sha256", name="pk_artifact_owners"),
    )
    op.create_index(
        "ix_artifact_owners_user_id_created_at", "artifact_owners", ["user_id", "created_at"]
    )
    op.create_index("ix_artifact_owners_sha256", "artifact_owners", ["sha256"])
    op.create_table(
        "job_artifacts",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_artifacts_job_id_jobs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["blobs.sha256"],
            name="fk_job_artifacts_sha256_blobs",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("job_id", "node_id", "position", name="pk_job_artifacts"),
    )
    op.create_index("ix_job_artifacts_sha256", "job_artifacts", ["sha256"])


def downgrade() -> None:
    for table in (
        "job_artifacts",
        "artifact_owners",
        "blobs",
        "jobs",
        "workflow_revisions",
        "workflows",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
