"""Benchmarks: the published success rates, seeded with the two SPEC gives.

Revision ID: 0003
Revises: 0002
Created: 2026-11-21
"""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CASE_TYPES = "'deportation_challenge', 'school_refusal', 'registry_error', 'forced_labour', 'police_abuse', 'other'"
TITLE = (
    "Speaking up for the voiceless: Russian activists struggle to defend the rights of migrants "
    "amid wartime conditions"
)


def upgrade() -> None:
    benchmarks = op.create_table(
        "benchmarks",
        sa.Column("id", sa.Integer()),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("low", sa.Numeric(5, 4), nullable=False),
        sa.Column("high", sa.Numeric(5, 4), nullable=False),
        sa.Column("publication", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"case_type IN ({CASE_TYPES})", name=op.f("ck_benchmarks_case_type")),
        sa.CheckConstraint(
            "0 <= low AND low <= high AND high <= 1", name=op.f("ck_benchmarks_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmarks")),
        sa.UniqueConstraint("case_type", name=op.f("uq_benchmarks_case_type")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        benchmarks,
        [
            {
                "case_type": "deportation_challenge",
                "low": Decimal("0.9"),
                "high": Decimal("0.9"),
                "publication": "The Insider",
                "title": TITLE,
                "year": 2025,
                "created_at": now,
                "quote": "in nine out of ten cases, human rights defenders are able to successfully "
                "challenge them",
            },
            {
                "case_type": "school_refusal",
                "low": Decimal("0.35"),
                "high": Decimal("0.4"),
                "publication": "The Insider",
                "title": TITLE,
                "year": 2025,
                "created_at": now,
                "quote": "assistance succeeds in only 35–40% of cases",
            },
        ],
    )


def downgrade() -> None:
    op.drop_table("benchmarks")
