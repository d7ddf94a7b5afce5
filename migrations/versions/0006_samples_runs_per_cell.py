"""samples: every cell asked `runs` times; top_p recorded with the other parameters

Executions become unique on (job, question, model, region, sample); rows made before this
revision are sample 1 of a one-run job.

Revision ID: 0006_samples
Revises: 0005_classify
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_samples"
down_revision = "0005_classify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("top_p", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("runs", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("top_p", sa.Float(), nullable=True))
        batch_op.drop_constraint("uq_execution_cell", type_="unique")
        batch_op.create_unique_constraint(
            "uq_execution_sample", ["job_id", "question_id", "model_id", "region", "sample"]
        )


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_execution_sample", type_="unique")
        batch_op.create_unique_constraint(
            "uq_execution_cell", ["job_id", "question_id", "model_id", "region"]
        )
        batch_op.drop_column("top_p")
        batch_op.drop_column("sample")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("runs")
        batch_op.drop_column("top_p")
