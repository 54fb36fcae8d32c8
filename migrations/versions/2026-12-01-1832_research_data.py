"""Research data (issue 9): the audit log, kept versions of information sheets, researchers of a session,
used withdrawal codes; a session's retention period, its minutes-in-exports setting and purge time; a
participant's withdrawal code hash. Existing sheets become their session's first kept version.

Revision ID: 39f32e717d16
Revises: c13ba2c83443
Create Date: 2026-12-01 18:32:07.119021
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import app.db

revision: str = "39f32e717d16"
down_revision: str | None = "c13ba2c83443"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_session_id_id", ["session_id", "id"], unique=False)

    op.create_table(
        "consent_sheet",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_session.id"],
            name=op.f("fk_consent_sheet_session_id_live_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "version", name=op.f("pk_consent_sheet")),
    )
    op.create_table(
        "session_researcher",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_session_researcher_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_session.id"],
            name=op.f("fk_session_researcher_session_id_live_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "account_id", name=op.f("pk_session_researcher")),
    )
    with op.batch_alter_table("session_researcher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_researcher_account_id"), ["account_id"], unique=False)

    op.create_table(
        "withdrawn_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_session.id"],
            name=op.f("fk_withdrawn_code_session_id_live_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_withdrawn_code")),
    )
    with op.batch_alter_table("withdrawn_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_withdrawn_code_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("live_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), server_default="365", nullable=False))
        batch_op.add_column(
            sa.Column("export_minutes", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("purged_at", app.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_code_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_participant_withdrawal_code_hash"), ["withdrawal_code_hash"]
        )

    op.execute(
        "INSERT INTO consent_sheet (session_id, version, text, created_at) "
        "SELECT id, consent_version, consent_text, created_at FROM live_session "
        "WHERE consent_version IS NOT NULL AND consent_text IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_participant_withdrawal_code_hash"), type_="unique")
        batch_op.drop_column("withdrawal_code_hash")

    with op.batch_alter_table("live_session", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
        batch_op.drop_column("export_minutes")
        batch_op.drop_column("retention_days")

    with op.batch_alter_table("withdrawn_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawn_code_session_id"))

    op.drop_table("withdrawn_code")
    with op.batch_alter_table("session_researcher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_researcher_account_id"))

    op.drop_table("session_researcher")
    op.drop_table("consent_sheet")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_session_id_id")

    op.drop_table("audit_event")
