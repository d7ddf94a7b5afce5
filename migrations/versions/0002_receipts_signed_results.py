"""receipts: a signed receipt per execution, a signed Merkle root per job

Revision ID: 0002_receipts
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_receipts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_payload", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("receipt_signature", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("receipt_key_id", sa.String(length=64), nullable=True))
    op.create_table(
        "receipt_roots",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_receipt_roots_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_receipt_roots")),
    )


def downgrade() -> None:
    op.drop_table("receipt_roots")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_column("receipt_key_id")
        batch_op.drop_column("receipt_signature")
        batch_op.drop_column("receipt_payload")
