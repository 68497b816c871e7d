"""Campaign progress rows without their own tenant foreign key and index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Starting a campaign enrols its whole audience in one INSERT; at 100,000 contacts each per-row
foreign-key check costs about a tenth of it. The tenant key is redundant here: the campaign's foreign
key already cascades these rows away with their tenant, and the unique (tenant_id, campaign_id,
contact_id) index leads with tenant_id. Row-level security on the table is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_contact_campaign_progress_tenant_id"), table_name="contact_campaign_progress")
    with op.batch_alter_table("contact_campaign_progress", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contact_campaign_progress_tenant_id_tenants"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("contact_campaign_progress", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_campaign_progress_tenant_id_tenants"),
            "tenants",
            ["tenant_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        op.f("ix_contact_campaign_progress_tenant_id"), "contact_campaign_progress", ["tenant_id"], unique=False
    )
