"""The working calendar comes from the ``holidays`` library; the calendar table keeps an admin's
corrections, federal or for one region. Deadline rules apply between two dates and may count
сутки; the KoAP art. 30.3 appeal term was ten сутки until Federal Law of 29.10.2024 No. 364-FZ
made it ten days; a school refusal's court claim counts from the day the refusal became known.

Revision ID: 0016
Revises: 0014
Created: 2026-12-02
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

AMENDED_ON = date(2024, 10, 29)  # Federal Law of 29.10.2024 No. 364-FZ took force
SOURCE = "https://proc.govnewsrf.ru/skfo/cha/378872"
OLD_BASIS = (
    "КоАП РФ, ст. 30.3 ч. 1: жалоба на постановление по делу об административном "
    "правонарушении может быть подана в течение десяти дней со дня вручения или получения "
    "копии постановления."
)
DAYS_BASIS = (
    "КоАП РФ, ст. 30.3 ч. 1 (в ред. Федерального закона от 29.10.2024 № 364-ФЗ, в силе с "
    "29.10.2024): жалоба на постановление по делу об административном правонарушении может "
    "быть подана в течение десяти дней со дня вручения или получения копии постановления; "
    "последний день, выпавший на нерабочий день, переносится на следующий рабочий день "
    f"(ст. 4.8 ч. 3). Источник: {SOURCE}"
)
SUTKI_NAME = "Жалоба на постановление (копия получена до 29.10.2024)"
SUTKI_BASIS = (
    "КоАП РФ, ст. 30.3 ч. 1 (ред. до Федерального закона от 29.10.2024 № 364-ФЗ): жалоба на "
    "постановление по делу об административном правонарушении может быть подана в течение "
    "десяти суток со дня вручения или получения копии постановления; срок в сутках не "
    f"переносится с нерабочего дня (ст. 4.8 ч. 2). Источник: {SOURCE}"
)
# What 0005 seeded by hand: the fixed holidays of 2023–2030, now the library's.
FIXED_HOLIDAYS = [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]
SEEDED_YEARS = range(2023, 2031)

rules = sa.table(
    "deadline_rules",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("case_type", sa.String),
    sa.column("trigger", sa.String),
    sa.column("length", sa.Integer),
    sa.column("unit", sa.String),
    sa.column("legal_basis", sa.Text),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
)
days = sa.table(
    "calendar_days",
    sa.column("id", sa.Integer),
    sa.column("day", sa.Date),
    sa.column("is_working", sa.Boolean),
    sa.column("region", sa.String),
)
deadlines = sa.table("deadlines", sa.column("rule_id", sa.Integer))
KOAP = sa.and_(
    rules.c.case_type == "deportation_challenge",
    rules.c.trigger == "ruling_received_on",
    rules.c.length == 10,
)
SEEDED = [date(y, m, d) for y in SEEDED_YEARS for m, d in FIXED_HOLIDAYS]


def upgrade() -> None:
    with op.batch_alter_table("deadline_rules") as batch:
        batch.add_column(sa.Column("valid_from", sa.Date()))
        batch.add_column(sa.Column("valid_to", sa.Date()))
        batch.drop_constraint(op.f("ck_deadline_rules_unit"), type_="check")
        batch.create_check_constraint(
            op.f("ck_deadline_rules_unit"), "unit IN ('days', 'sutki', 'months')"
        )
        batch.create_check_constraint(
            op.f("ck_deadline_rules_valid"),
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to",
        )
    connection = op.get_bind()
    koap = connection.execute(
        sa.select(rules.c.id, rules.c.legal_basis).where(KOAP, rules.c.unit == "days")
    ).first()
    if koap is not None:
        basis = DAYS_BASIS if koap.legal_basis == OLD_BASIS else koap.legal_basis
        connection.execute(
            rules.update()
            .where(rules.c.id == koap.id)
            .values(valid_from=AMENDED_ON, legal_basis=basis)
        )
        connection.execute(
            rules.insert().values(
                name=SUTKI_NAME,
                case_type="deportation_challenge",
                trigger="ruling_received_on",
                length=10,
                unit="sutki",
                legal_basis=SUTKI_BASIS,
                is_active=True,
                created_at=datetime.now(UTC),
                valid_to=date(2024, 10, 28),
            )
        )
    connection.execute(
        rules.update()
        .where(rules.c.case_type == "school_refusal", rules.c.trigger == "refusal_on")
        .values(trigger="decision_learned_on")
    )

    with op.batch_alter_table("calendar_days") as batch:
        batch.add_column(sa.Column("region", sa.String(8)))
        batch.drop_constraint(op.f("uq_calendar_days_day"), type_="unique")
        batch.create_unique_constraint(op.f("uq_calendar_days_day_region"), ["day", "region"])
    # The hand-kept fixed holidays are the library's now; left, they would make 2028–2030 look
    # "known" when no decree for them is.
    connection.execute(
        days.delete().where(
            days.c.day.in_(SEEDED), days.c.is_working.is_(False), days.c.region.is_(None)
        )
    )


def downgrade() -> None:
    connection = op.get_bind()
    # A region's days have no place in the older table; the fixed holidays come back by hand.
    connection.execute(days.delete().where(days.c.region.isnot(None)))
    with op.batch_alter_table("calendar_days") as batch:
        batch.drop_constraint(op.f("uq_calendar_days_day_region"), type_="unique")
        batch.drop_column("region")
        batch.create_unique_constraint(op.f("uq_calendar_days_day"), ["day"])
    present = set(connection.execute(sa.select(days.c.day)).scalars())
    missing = [d for d in SEEDED if d not in present]
    if missing:
        connection.execute(days.insert(), [{"day": d, "is_working": False} for d in missing])

    connection.execute(
        rules.update()
        .where(rules.c.case_type == "school_refusal", rules.c.trigger == "decision_learned_on")
        .values(trigger="refusal_on")
    )
    koap = connection.execute(sa.select(rules.c.id).where(KOAP, rules.c.unit == "days")).scalar()
    sutki = list(connection.execute(sa.select(rules.c.id).where(rules.c.unit == "sutki")).scalars())
    if sutki:
        # Their deadlines stay, as the ten-day rule's (the older schema counts no сутки).
        connection.execute(
            deadlines.update().where(deadlines.c.rule_id.in_(sutki)).values(rule_id=koap)
        )
        connection.execute(rules.delete().where(rules.c.id.in_(sutki)))
    connection.execute(
        rules.update().where(rules.c.legal_basis == DAYS_BASIS).values(legal_basis=OLD_BASIS)
    )
    with op.batch_alter_table("deadline_rules") as batch:
        batch.drop_constraint(op.f("ck_deadline_rules_valid"), type_="check")
        batch.drop_constraint(op.f("ck_deadline_rules_unit"), type_="check")
        batch.create_check_constraint(op.f("ck_deadline_rules_unit"), "unit IN ('days', 'months')")
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")
