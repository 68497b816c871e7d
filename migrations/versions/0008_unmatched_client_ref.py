"""Unmatched statuses keep the message id the provider echoed (`biz_opaque_callback_data`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

A campaign message whose send outcome was lost (the worker died mid-send, or the call timed out)
becomes `unknown`. Statuses WhatsApp reports for it name a message id we never recorded, so they wait
in `unmatched_statuses`; with our own id kept beside them, the message adopts its provider id and
statuses as soon as it is marked `unknown`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unmatched_statuses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_ref", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_unmatched_statuses_client_ref", ["tenant_id", "client_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unmatched_statuses", schema=None) as batch_op:
        batch_op.drop_index("ix_unmatched_statuses_client_ref")
        batch_op.drop_column("client_ref")
