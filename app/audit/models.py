from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import UtcDateTime, check_in, utcnow

ACTIONS = {
    "export": _l("exported"),
    "import": _l("imported"),
    "insert": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "seed": _l("demo data added"),
    "refused": _l("wrong password given"),
    "locked": _l("locked after wrong passwords"),
}
ENTITIES = {
    "cases": _l("case"),
    "clients": _l("client"),
    "timeline_entries": _l("timeline entry"),
    "users": _l("account"),
    "benchmarks": _l("benchmark"),
    "deadlines": _l("deadline"),
    "settings": _l("settings"),
}
CHANNELS = ("web", "cli")


class AuditEvent(db.Model):
    """One change to one audited row: who, when (UTC), how (web or command line), and each
    changed field as [old, new]. Rows of the trail are never updated or deleted by the app."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.CheckConstraint(check_in("action", ACTIONS), name="action"),
        sa.CheckConstraint(check_in("via", CHANNELS), name="via"),
        sa.Index(None, "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    via: Mapped[str] = mapped_column(sa.String(8))
    action: Mapped[str] = mapped_column(sa.String(16))
    entity: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[int | None]
    # Not a foreign key: the history of a case outlives the case.
    case_id: Mapped[int | None] = mapped_column(index=True)
    changes: Mapped[dict | None] = mapped_column(sa.JSON)

    actor = relationship("User")

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))

    @property
    def entity_label(self) -> str:
        return str(ENTITIES.get(self.entity, self.entity))
