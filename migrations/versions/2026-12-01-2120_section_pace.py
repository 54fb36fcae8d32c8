"""a section's pace: presenter-paced, or an audience-paced survey that starts and finishes

Revision ID: 7b3f0e4c1a92
Revises: 2318fe5abfec
Create Date: 2026-12-01 21:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "7b3f0e4c1a92"
down_revision: str | None = "2318fe5abfec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pace", sa.String(length=12), server_default="presenter", nullable=False)
        )
        batch_op.add_column(sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("pace")
