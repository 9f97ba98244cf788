"""Deadlines of a case (the CSV's next_deadline); exports and imports in the audit trail.

Revision ID: 0004
Revises: 0003
Created: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_ACTIONS = "action IN ('insert', 'update', 'delete', 'seed')"
NEW_ACTIONS = "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed')"


def _actions(check: str) -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_events_action"), check)


def upgrade() -> None:
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer()),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("met_on", sa.Date()),
        sa.Column("created_by_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deadlines_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_deadlines_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    op.create_index(op.f("ix_deadlines_case_id"), "deadlines", ["case_id"])
    _actions(NEW_ACTIONS)


def downgrade() -> None:
    op.execute("DELETE FROM audit_events WHERE action IN ('export', 'import')")
    _actions(OLD_ACTIONS)
    op.drop_table("deadlines")
