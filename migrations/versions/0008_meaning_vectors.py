"""meaning: each answer's sentence-encoder vector, stored with its classification

The analysis compares what answers say with these vectors (`analysis.similarity`); they are
computed once, when the answer is classified, as encoding a job's answers in the analysis
would cost seconds. Rows from before this revision have none: the analysis encodes those,
and `recomputeBiasAnalysis` stores them.

Revision ID: 0008_meaning
Revises: 0007_samples
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_meaning"
down_revision = "0007_samples"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meaning_vector", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_column("meaning_vector")
