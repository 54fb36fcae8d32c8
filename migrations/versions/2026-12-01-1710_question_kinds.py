"""Question kinds (issue 7): word-cloud words, entries (open, Q&A, comments) and votes; a session's
language; a question's comments, show_comments and moderated.

Revision ID: c13ba2c83443
Revises: 3c1d7a2e9b40
Create Date: 2026-12-01 17:10:13.827282
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "c13ba2c83443"
down_revision: str | None = "3c1d7a2e9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("highlighted", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_entry_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_entry_question_id_question"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry")),
    )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_participant_id"), ["participant_id"], unique=False)
        batch_op.create_index("ix_entry_question_id_created_at", ["question_id", "created_at"], unique=False)

    op.create_table(
        "answer_word",
        sa.Column("question_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("word", sa.String(length=160), nullable=False),
        sa.Column("text", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id", "participant_id"],
            ["answer.question_id", "answer.participant_id"],
            name=op.f("fk_answer_word_question_id_answer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", "participant_id", "word", name=op.f("pk_answer_word")),
    )
    op.create_table(
        "entry_vote",
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_entry_vote_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_entry_vote_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_entry_vote_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "participant_id", name=op.f("pk_entry_vote")),
    )
    with op.batch_alter_table("entry_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_vote_participant_id"), ["participant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_vote_question_id"), ["question_id"], unique=False)

    with op.batch_alter_table("live_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="en", nullable=False))

    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comments", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("show_comments", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("moderated", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_column("moderated")
        batch_op.drop_column("show_comments")
        batch_op.drop_column("comments")

    with op.batch_alter_table("live_session", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("entry_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_vote_question_id"))
        batch_op.drop_index(batch_op.f("ix_entry_vote_participant_id"))

    op.drop_table("entry_vote")
    op.drop_table("answer_word")
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_question_id_created_at")
        batch_op.drop_index(batch_op.f("ix_entry_participant_id"))

    op.drop_table("entry")
