"""Who may read each output, temp and input file by name (``/view``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_owners",
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('output', 'temp', 'input')", name="ck_file_owners_kind"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_file_owners_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("kind", "path", "user_id", name="pk_file_owners"),
    )


def downgrade() -> None:
    op.drop_table("file_owners")
