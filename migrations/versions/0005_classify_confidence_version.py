"""executions: the classifier's confidence and version beside its label and evidence

Revision ID: 0005_classify
Revises: 0004_clients
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_classify"
down_revision = "0004_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("classification_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("classifier_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("classifier_version")
        batch.drop_column("classification_confidence")
