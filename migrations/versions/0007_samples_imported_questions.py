"""samples: imported questions carry a language and, for a translation, the question it
translates; the eight built-in questions in simplified Chinese

Revision ID: 0007_samples
Revises: 0006_samples
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from beacon_gql.jobs.catalogue import CATALOGUE, TRANSLATIONS

revision = "0007_samples"
down_revision = "0006_samples"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=35), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("translation_of", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_questions_language"), ["language"], unique=False)

    questions = sa.table(
        "questions",
        sa.column("id", sa.String),
        sa.column("category", sa.String),
        sa.column("text", sa.Text),
        sa.column("position", sa.Integer),
        sa.column("language", sa.String),
        sa.column("translation_of", sa.String),
    )
    # After the built-in eight, before anything imported since (imports take max + 1).
    highest = op.get_bind().execute(sa.text("SELECT MAX(position) FROM questions")).scalar()
    first = max(len(CATALOGUE), (highest or 0) + 1)
    op.bulk_insert(
        questions,
        [
            {
                "id": q.id,
                "category": q.category,
                "text": q.text,
                "position": first + index,
                "language": q.language,
                "translation_of": q.translation_of,
            }
            for index, q in enumerate(TRANSLATIONS)
        ],
    )


def downgrade() -> None:
    questions = sa.table("questions", sa.column("id", sa.String))
    op.execute(questions.delete().where(questions.c.id.in_([q.id for q in TRANSLATIONS])))
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_language"))
        batch_op.drop_column("translation_of")
        batch_op.drop_column("language")
