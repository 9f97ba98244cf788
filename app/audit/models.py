from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import UtcDateTime, check_in, utcnow

ACTIONS = {
    "export": _l("exported"),
    "export_started": _l("cases export started"),
    "export_finished": _l("cases export finished"),
    "import": _l("imported"),
    "insert": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "seed": _l("demo data added"),
    # A probe for clients with a name, phone or number: counts only, never what was typed.
    "duplicate_check": _l("checked for duplicates"),
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
    "calendar_days": _l("calendar day"),
    "possible_duplicates": _l("possible duplicate"),
}
CHANNELS = ("web", "cli")
# Events that record something done rather than a row changed: each field is a fact, shown
# as "name: value".
FACTS = frozenset({"export", "export_started", "export_finished", "import", "seed"})
# Actions whose label already says what they were done to.
SELF_NAMED = frozenset({"export_started", "export_finished"})
FACT_NAMES = {
    "export": _l("export"),
    "filters": _l("filters"),
    "identified": _l("client names"),
    "rows": _l("rows"),
    "result": _l("result"),
    "complete": _l("complete"),
}
EXPORT_RESULTS = {
    "complete": _l("complete"),
    "cut_off": _l("cut off: the download stopped"),
    "failed": _l("failed: an error stopped it"),
}


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
        if self.action in SELF_NAMED:
            return ""
        return str(ENTITIES.get(self.entity, self.entity))

    @property
    def records_facts(self) -> bool:
        return self.action in FACTS


class DataVersion(db.Model):
    """One row, counted up by every commit that changes a table the remembered figures are
    computed from (``app.audit.services.FIGURE_TABLES``), just before that commit: the key the
    figures are remembered by. Unlike the newest audit event's id (taken at insert, so a slow
    transaction can commit an older one after a newer one), it changes at every such commit."""

    __tablename__ = "data_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
