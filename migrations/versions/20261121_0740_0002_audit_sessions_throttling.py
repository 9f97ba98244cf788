"""Audit trail, server-side sessions, login throttling.

Revision ID: 0002
Revises: 0001
Created: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer()),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer()),
        sa.Column("case_id", sa.Integer()),
        sa.Column("changes", sa.JSON()),
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete', 'seed')", name=op.f("ck_audit_events_action")
        ),
        sa.CheckConstraint("via IN ('web', 'cli')", name=op.f("ck_audit_events_via")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor_id"])
    op.create_index(op.f("ix_audit_events_case_id"), "audit_events", ["case_id"])
    op.create_index(
        op.f("ix_audit_events_entity_entity_id"), "audit_events", ["entity", "entity_id"]
    )
    op.create_index(op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"])

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer()),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_reason", sa.String(16)),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer()),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        op.f("ix_login_failures_account_key_failed_at"),
        "login_failures",
        ["account_key", "failed_at"],
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("user_sessions")
    op.drop_table("audit_events")
