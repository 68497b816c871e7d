"""Let row-level security use the GIN index for tag filters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

PostgreSQL only pushes a qual below an RLS policy into an index scan when its function is
LEAKPROOF; `jsonb_contains` (the @> operator) is not marked so by default, which made tag counts
seq-scan for the app role. Marking it needs a superuser; without one the migration says so and
continues (the queries stay correct, only slower).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SET = """
DO $$ BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION jsonb_contains(jsonb, jsonb) {flag};
    ELSE
        RAISE NOTICE 'not a superuser: jsonb_contains left as is; tag filters under RLS will not use the GIN index';
    END IF;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SET.format(flag="LEAKPROOF"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SET.format(flag="NOT LEAKPROOF"))
