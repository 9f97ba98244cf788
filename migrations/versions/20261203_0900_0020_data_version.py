"""The data version: one row counted up by every commit that changes cases or clients, which
the dashboard's remembered figures are keyed on (the newest audit event's id, their key until
now, is taken at insert: a slow transaction could commit an older id after a view, and the
figures stayed without its change until the next write).

Revision ID: 0020
Revises: 0018
Created: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("data_version")
