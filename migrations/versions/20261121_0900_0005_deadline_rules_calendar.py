"""Deadline rules and the working-day calendar; deadlines that are met, missed or extended;
each user's secret calendar link.

Revision ID: 0005
Revises: 0004
Created: 2026-11-21
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CASE_TYPES = "'deportation_challenge', 'school_refusal', 'registry_error', 'forced_labour', 'police_abuse', 'other'"
OLD_KINDS = "kind IN ('note', 'hearing', 'filing', 'decision', 'closed', 'reopened')"
NEW_KINDS = (
    "kind IN ('note', 'hearing', 'filing', 'decision', 'closed', 'reopened', 'term_met', "
    "'term_missed', 'term_extended', 'term_restored')"
)
# The rules are data the group reads in Russian, as the law is written.
KOAP = (
    "КоАП РФ, ст. 30.3 ч. 1: жалоба на постановление по делу об административном "
    "правонарушении может быть подана в течение десяти дней со дня вручения или получения "
    "копии постановления."
)
KAS = (
    "КАС РФ, ст. 219 ч. 1: административное исковое заявление может быть подано в суд в "
    "течение трёх месяцев со дня, когда гражданину стало известно о нарушении его прав."
)
RULES = [
    ("Жалоба на постановление", "deportation_challenge", "ruling_received_on", 10, "days", KOAP),
    ("Иск об оспаривании отказа", "school_refusal", "refusal_on", 3, "months", KAS),
    ("Иск об исключении из реестра", "registry_error", "decision_learned_on", 3, "months", KAS),
]
# Labour Code art. 112: the fixed non-working public holidays. Days moved by each year's
# government decree are added by an admin.
FIXED_HOLIDAYS = [
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
]
YEARS = range(2023, 2031)


def upgrade() -> None:
    now = datetime.now(UTC)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("decision_learned_on", sa.Date()))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("calendar_token_hash", sa.String(64)))
        batch.create_unique_constraint(
            op.f("uq_users_calendar_token_hash"), ["calendar_token_hash"]
        )

    rules = op.create_table(
        "deadline_rules",
        sa.Column("id", sa.Integer()),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"case_type IN ({CASE_TYPES})", name=op.f("ck_deadline_rules_case_type")
        ),
        sa.CheckConstraint(
            "trigger IN ('ruling_received_on', 'refusal_on', 'decision_learned_on')",
            name=op.f("ck_deadline_rules_trigger"),
        ),
        sa.CheckConstraint("unit IN ('days', 'months')", name=op.f("ck_deadline_rules_unit")),
        sa.CheckConstraint("length > 0", name=op.f("ck_deadline_rules_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_rules")),
    )
    op.bulk_insert(
        rules,
        [
            {
                "name": name,
                "case_type": case_type,
                "trigger": trigger,
                "length": length,
                "unit": unit,
                "legal_basis": basis,
                "is_active": True,
                "created_at": now,
            }
            for name, case_type, trigger, length, unit, basis in RULES
        ],
    )

    days = op.create_table(
        "calendar_days",
        sa.Column("id", sa.Integer()),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_days")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_days_day")),
    )
    op.bulk_insert(
        days,
        [
            {"day": date(year, month, day), "is_working": False, "note": "праздник (ст. 112 ТК РФ)"}
            for year in YEARS
            for month, day in FIXED_HOLIDAYS
        ],
    )

    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("rule_id", sa.Integer()))
        batch.add_column(sa.Column("legal_basis", sa.Text()))
        batch.add_column(sa.Column("status", sa.String(8), nullable=False, server_default="open"))
        batch.add_column(sa.Column("resolved_on", sa.Date()))
        batch.add_column(
            sa.Column("is_extended", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE deadlines SET status = 'met', resolved_on = met_on WHERE met_on IS NOT NULL")
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("met_on")
        batch.alter_column("status", server_default=None)
        batch.alter_column("is_extended", server_default=None)
        batch.create_foreign_key(
            op.f("fk_deadlines_rule_id_deadline_rules"), "deadline_rules", ["rule_id"], ["id"]
        )
        batch.create_check_constraint(
            op.f("ck_deadlines_status"), "status IN ('open', 'met', 'missed')"
        )
        batch.create_check_constraint(
            op.f("ck_deadlines_resolved_with_date"), "(status = 'open') = (resolved_on IS NULL)"
        )
        batch.create_index(op.f("ix_deadlines_status_due_on"), ["status", "due_on"])

    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_constraint(op.f("ck_timeline_entries_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_timeline_entries_kind"), NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM timeline_entries WHERE kind LIKE 'term_%'")
    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_constraint(op.f("ck_timeline_entries_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_timeline_entries_kind"), OLD_KINDS)
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("met_on", sa.Date()))
    op.execute("UPDATE deadlines SET met_on = resolved_on WHERE status = 'met'")
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_index(op.f("ix_deadlines_status_due_on"))
        batch.drop_constraint(op.f("ck_deadlines_resolved_with_date"), type_="check")
        batch.drop_constraint(op.f("ck_deadlines_status"), type_="check")
        batch.drop_constraint(op.f("fk_deadlines_rule_id_deadline_rules"), type_="foreignkey")
        batch.drop_column("is_extended")
        batch.drop_column("resolved_on")
        batch.drop_column("status")
        batch.drop_column("legal_basis")
        batch.drop_column("rule_id")
    op.drop_table("calendar_days")
    op.drop_table("deadline_rules")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_calendar_token_hash"), type_="unique")
        batch.drop_column("calendar_token_hash")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("decision_learned_on")
