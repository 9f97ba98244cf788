"""Login throttling per account and address; security alerts for admins; wrong passwords and
locks in the audit trail.

Revision ID: 0012
Revises: 0011
Created: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_ACTIONS = (
    "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed', 'duplicate_check')"
)
NEW_ACTIONS = (
    "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed', 'duplicate_check', "
    "'refused', 'locked')"
)


def _actions(check: str) -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_events_action"), check)


def upgrade() -> None:
    _actions(NEW_ACTIONS)
    op.drop_index(op.f("ix_login_failures_account_key_failed_at"), table_name="login_failures")
    op.add_column("login_failures", sa.Column("address_key", sa.String(64)))
    op.create_index(
        op.f("ix_login_failures_account_key_address_key_failed_at"),
        "login_failures",
        ["account_key", "address_key", "failed_at"],
    )
    op.create_index(
        op.f("ix_login_failures_address_key_failed_at"),
        "login_failures",
        ["address_key", "failed_at"],
    )
    op.create_table(
        "security_alerts",
        sa.Column("id", sa.Integer()),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("address_key", sa.String(64), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True)),
        sa.Column("seen_by_id", sa.Integer()),
        sa.CheckConstraint("kind IN ('account', 'address')", name=op.f("ck_security_alerts_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_security_alerts_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seen_by_id"], ["users.id"], name=op.f("fk_security_alerts_seen_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_alerts")),
    )
    op.create_index(op.f("ix_security_alerts_user_id"), "security_alerts", ["user_id"])
    op.create_index(op.f("ix_security_alerts_seen_at"), "security_alerts", ["seen_at"])


def downgrade() -> None:
    op.drop_table("security_alerts")
    op.drop_index(op.f("ix_login_failures_address_key_failed_at"), table_name="login_failures")
    op.drop_index(
        op.f("ix_login_failures_account_key_address_key_failed_at"), table_name="login_failures"
    )
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("address_key")
    op.create_index(
        op.f("ix_login_failures_account_key_failed_at"),
        "login_failures",
        ["account_key", "failed_at"],
    )
    op.execute("DELETE FROM audit_events WHERE action IN ('refused', 'locked')")
    _actions(OLD_ACTIONS)
