"""Which calendar library the open deadlines were last counted with: when the installed one
differs (an upgrade brought next year's decree; or 0016 replaced the hand-kept calendar), the
app's housekeeping counts them again by itself, once. Empty after this migration, so the first
housekeeping after it counts them.

Revision ID: 0018
Revises: 0017
Created: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settings") as batch:
        batch.add_column(sa.Column("calendar_counted", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settings") as batch:
        batch.drop_column("calendar_counted")
