"""one Ed25519 R per key: signature_commitments

Revision ID: 0003
Revises: 0002_receipts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002_receipts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_commitments",
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature_r", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("public_key", "signature_r", name=op.f("pk_signature_commitments")),
    )
    # Every R already accepted, with one of its signatures (a race may have let in two).
    op.execute(
        "INSERT INTO signature_commitments (public_key, signature_r, signature, seen_at) "
        "SELECT public_key, signature_r, MIN(signature), MIN(seen_at) FROM used_nonces "
        "GROUP BY public_key, signature_r"
    )


def downgrade() -> None:
    op.drop_table("signature_commitments")
