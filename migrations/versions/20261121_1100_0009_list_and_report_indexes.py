"""Indexes for the case list (keyset, filtered), reports by period and hearings ahead.

Revision ID: 0009
Revises: 0008
Created: 2026-11-21
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEW = [
    ("ix_cases_opened_on_id", "cases", ["opened_on", "id"]),
    ("ix_cases_case_type_opened_on_id", "cases", ["case_type", "opened_on", "id"]),
    ("ix_cases_assigned_to_id_opened_on_id", "cases", ["assigned_to_id", "opened_on", "id"]),
    ("ix_cases_region_opened_on_id", "cases", ["region", "opened_on", "id"]),
    ("ix_cases_closed_on", "cases", ["closed_on"]),
    ("ix_cases_created_by_id", "cases", ["created_by_id"]),
    ("ix_timeline_entries_kind_occurred_on", "timeline_entries", ["kind", "occurred_on"]),
]
# Prefixes of the new ones.
OLD = [
    ("ix_cases_opened_on", "cases", ["opened_on"]),
    ("ix_cases_assigned_to_id", "cases", ["assigned_to_id"]),
]


def upgrade() -> None:
    for name, table, columns in NEW:
        op.create_index(name, table, columns)
    for name, table, _columns in OLD:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
    for name, table, _columns in NEW:
        op.drop_index(name, table_name=table)
