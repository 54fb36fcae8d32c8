"""What the presenters show for report-back (the last `PUT …/report` request, ids only), so that a
withdrawal can show the board or notes again without the participant's.

Revision ID: 9a4c2e71d5b3
Revises: 9c4d2e7a5b13
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a4c2e71d5b3"
down_revision: str | None = "9c4d2e7a5b13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_back",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_session.id"],
            name=op.f("fk_report_back_session_id_live_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_report_back")),
    )


def downgrade() -> None:
    op.drop_table("report_back")
