"""The k step counts changes of stored values, not receipts; k is applied when a result is read.

`result_change` logs one row each time a participant's stored contribution to a question changes (no
content, no foreign key to the participant, so a leaver's rows still count). `result_state` steps from
a change id instead of a receipt id, and no longer stores `hidden`: the summary it keeps is the one
before k, and every read applies the session's k of that moment.

Revision ID: 3c1d7a2e9b40
Revises: f65a1e6f477e
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1d7a2e9b40"
down_revision: str | None = "f65a1e6f477e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_change",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("question_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_result_change_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_change")),
    )
    with op.batch_alter_table("result_change", schema=None) as batch_op:
        batch_op.create_index("ix_result_change_question_id_id", ["question_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_result_change_participant_id"), ["participant_id"], unique=False)
    # Existing states start from change 0: an open question waits for k new changes before it moves.
    with op.batch_alter_table("result_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_id", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.drop_column("receipt_id")
        batch_op.drop_column("hidden")
    with op.batch_alter_table("result_state", schema=None) as batch_op:
        batch_op.alter_column("change_id", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("result_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("receipt_id", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.drop_column("change_id")
    with op.batch_alter_table("result_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_change_participant_id"))
        batch_op.drop_index("ix_result_change_question_id_id")
    op.drop_table("result_change")
