"""Initial schema: users, clients, cases and their timelines.

Revision ID: 0001
Revises:
Created: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CASE_TYPES = "'deportation_challenge', 'school_refusal', 'registry_error', 'forced_labour', 'police_abuse', 'other'"
OUTCOMES = "'success', 'partial', 'failure', 'withdrawn'"
REFUSAL_REASONS = "'documents_rejected', 'language_test_failed', 'no_registration', 'other'"
ENTRY_KINDS = "'note', 'hearing', 'filing', 'decision', 'closed', 'reopened'"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer()),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        _timestamp("last_login_at", nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "role IN ('volunteer', 'coordinator', 'admin')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer()),
        sa.Column("pseudonym", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("name_folded", sa.String(200), nullable=False),
        sa.Column("citizenship", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("messenger", sa.String(200)),
        sa.Column("preferred_language", sa.String(8)),
        sa.Column("born_on", sa.Date()),
        sa.Column("notes", sa.Text()),
        sa.Column("created_by_id", sa.Integer()),
        _timestamp("updated_at"),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_clients_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_clients_pseudonym")),
    )
    op.create_index(op.f("ix_clients_name_folded"), "clients", ["name_folded"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer()),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("authority", sa.String(200)),
        sa.Column("summary", sa.Text()),
        sa.Column("created_by_id", sa.Integer()),
        sa.Column("assigned_to_id", sa.Integer()),
        sa.Column("outcome", sa.String(16)),
        sa.Column("closed_on", sa.Date()),
        _timestamp("updated_at"),
        sa.Column("offence_article", sa.String(100)),
        sa.Column("ruling_on", sa.Date()),
        sa.Column("ruling_received_on", sa.Date()),
        sa.Column("school_name", sa.String(200)),
        sa.Column("school_grade", sa.String(40)),
        sa.Column("refusal_on", sa.Date()),
        sa.Column("refusal_reason", sa.String(32)),
        _timestamp("created_at"),
        sa.CheckConstraint(f"case_type IN ({CASE_TYPES})", name=op.f("ck_cases_case_type")),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f("ck_cases_outcome")),
        sa.CheckConstraint(
            f"refusal_reason IN ({REFUSAL_REASONS})", name=op.f("ck_cases_refusal_reason")
        ),
        sa.CheckConstraint(
            "(outcome IS NULL) = (closed_on IS NULL)", name=op.f("ck_cases_outcome_with_date")
        ),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name=op.f("ck_cases_closed_after_opened")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["users.id"], name=op.f("fk_cases_assigned_to_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_cases_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_cases_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    op.create_index(op.f("ix_cases_assigned_to_id"), "cases", ["assigned_to_id"])
    op.create_index(op.f("ix_cases_client_id"), "cases", ["client_id"])
    op.create_index(op.f("ix_cases_opened_on"), "cases", ["opened_on"])
    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer()),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("outcome", sa.String(16)),
        sa.Column("created_by_id", sa.Integer()),
        _timestamp("created_at"),
        sa.CheckConstraint(f"kind IN ({ENTRY_KINDS})", name=op.f("ck_timeline_entries_kind")),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f("ck_timeline_entries_outcome")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_timeline_entries_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_timeline_entries_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
    )
    op.create_index(op.f("ix_timeline_entries_case_id"), "timeline_entries", ["case_id"])


def downgrade() -> None:
    op.drop_table("timeline_entries")
    op.drop_table("cases")
    op.drop_table("clients")
    op.drop_table("users")
