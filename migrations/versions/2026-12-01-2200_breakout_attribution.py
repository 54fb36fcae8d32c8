"""Where each answer to a round's group question was given (ETHICS 10): `breakout_attribution`, one row a
question and participant with the round and the group (or none: the main room) they were in when they
answered, so per-group results no longer follow moves made afterwards. An index on the round's question,
which the answer writer looks up in every batch.

Existing answers to a round's question are attributed to their author's group in that round as it is now
(the latest round when a question was asked in two); that is what per-group results read until now.

Revision ID: 9c4d2e7a5b13
Revises: 6e11ba93f364
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4d2e7a5b13"
down_revision: str | None = "6e11ba93f364"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every contribution to a round's question (an answer, an entry or a vote), with the latest round that
# asked it and the author's group in that round as the members table has it now.
_BACKFILL = """
INSERT INTO breakout_attribution (question_id, participant_id, round_id, group_id)
SELECT c.question_id, c.participant_id, r.id, m.group_id
FROM (
    SELECT question_id, participant_id FROM answer
    UNION SELECT question_id, participant_id FROM entry
    UNION SELECT question_id, participant_id FROM entry_vote
) AS c
JOIN breakout_round AS r ON r.question_id = c.question_id
LEFT JOIN breakout_member AS m ON m.round_id = r.id AND m.participant_id = c.participant_id
WHERE r.number = (
    SELECT max(r2.number) FROM breakout_round AS r2
    WHERE r2.question_id = c.question_id AND r2.session_id = r.session_id
)
"""


def upgrade() -> None:
    op.create_table(
        "breakout_attribution",
        sa.Column("question_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["breakout_group.id"],
            name=op.f("fk_breakout_attribution_group_id_breakout_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_breakout_attribution_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_breakout_attribution_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["breakout_round.id"],
            name=op.f("fk_breakout_attribution_round_id_breakout_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", "participant_id", name=op.f("pk_breakout_attribution")),
    )
    with op.batch_alter_table("breakout_attribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breakout_attribution_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_breakout_attribution_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_breakout_attribution_round_id"), ["round_id"], unique=False)

    with op.batch_alter_table("breakout_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breakout_round_question_id"), ["question_id"], unique=False)

    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("breakout_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breakout_round_question_id"))

    with op.batch_alter_table("breakout_attribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breakout_attribution_round_id"))
        batch_op.drop_index(batch_op.f("ix_breakout_attribution_participant_id"))
        batch_op.drop_index(batch_op.f("ix_breakout_attribution_group_id"))

    op.drop_table("breakout_attribution")
