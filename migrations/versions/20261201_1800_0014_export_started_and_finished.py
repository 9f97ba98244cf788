"""An export in the audit trail as two events: started (before its first byte) and finished.

Revision ID: 0014
Revises: 0012
Created: 2026-12-01
"""

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_ACTIONS = "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed', 'duplicate_check', 'refused', 'locked')"
NEW_ACTIONS = (
    "action IN ('export', 'export_started', 'export_finished', 'import', 'insert', 'update', "
    "'delete', 'seed', 'duplicate_check', 'refused', 'locked')"
)


def _actions(check: str) -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_events_action"), check)


def upgrade() -> None:
    _actions(NEW_ACTIONS)


def downgrade() -> None:
    # Kept, as the one kind of export event the older schema knows: nothing leaves the trail.
    op.execute(
        "UPDATE audit_events SET action = 'export' "
        "WHERE action IN ('export_started', 'export_finished')"
    )
    _actions(OLD_ACTIONS)
