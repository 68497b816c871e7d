"""Counters shared through PostgreSQL: rate-limit windows and pending usage when there is no Redis.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

`greenline serve` on PostgreSQL runs several processes (web workers and the inbound processor), so
counters kept in one process's memory would let each process allow its own quota. Both tables are
UNLOGGED on PostgreSQL: no WAL for every hit; after a crash they start empty, like Redis without
persistence (the day's send count is re-read from messages by the pacer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import greenline.core.db
from greenline.core.rls import ensure_app_role

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "shared_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", greenline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shared_counters")),
        prefixes=unlogged,
    )
    op.create_index(op.f("ix_shared_counters_expires_at"), "shared_counters", ["expires_at"], unique=False)
    op.create_table(
        "pending_counts",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "field", name=op.f("pk_pending_counts")),
        prefixes=unlogged,
    )
    ensure_app_role()


def downgrade() -> None:
    op.drop_table("pending_counts")
    op.drop_index(op.f("ix_shared_counters_expires_at"), table_name="shared_counters")
    op.drop_table("shared_counters")
