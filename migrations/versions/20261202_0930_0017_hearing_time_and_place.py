"""A hearing's time and place: the time of day (plain, local to HUQUQ_TIMEZONE, like the case's
dates) and the court and room (typed text, sealed with the client's data key like the other
texts of a case; new columns, so there is nothing to seal on the way up).

Downgrading drops the three columns: the times and places typed since are lost, the hearings
themselves and their notes stay.

Revision ID: 0017
Revises: 0016
Created: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timeline_entries") as batch:
        batch.add_column(sa.Column("hearing_time", sa.Time(), nullable=True))
        batch.add_column(sa.Column("court", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("room", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # The rebuilt table's freed pages are overwritten, as in 0011.
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_column("room")
        batch.drop_column("court")
        batch.drop_column("hearing_time")
