"""Open deadlines by case: the earliest open deadline of each case (the CSV's next_deadline)
is read from one index, for a whole export or for a range of case ids.

Revision ID: 0010
Revises: 0009
Created: 2026-11-30
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME, TABLE, COLUMNS = (
    "ix_deadlines_status_case_id_due_on",
    "deadlines",
    ["status", "case_id", "due_on"],
)


def upgrade() -> None:
    op.create_index(NAME, TABLE, COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name=TABLE)
