"""samples: imported questions carry a language and, for a translation, the question it
translates

Revision ID: 0003_samples
Revises: 0002_samples
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_samples"
down_revision = "0002_samples"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=35), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("translation_of", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_questions_language"), ["language"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_language"))
        batch_op.drop_column("translation_of")
        batch_op.drop_column("language")
