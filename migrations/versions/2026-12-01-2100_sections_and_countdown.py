"""sections of a session, and a question's countdown

Revision ID: 5e7a1c9d2b80
Revises: 39f32e717d16
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "5e7a1c9d2b80"
down_revision: str | None = "39f32e717d16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "section",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_session.id"],
            name=op.f("fk_section_session_id_live_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section")),
    )
    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_section_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("section_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closes_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_question_section_id"), ["section_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_question_section_id_section"),
            "section",
            ["section_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_question_section_id_section"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_question_section_id"))
        batch_op.drop_column("closes_at")
        batch_op.drop_column("section_id")

    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_section_session_id"))

    op.drop_table("section")
