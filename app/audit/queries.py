"""Reads of the audit trail."""

import base64
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.audit.models import AuditEvent
from app.audit.services import SEALED
from app.crypto import KeyError_, unseal
from app.extensions import db


def case_history(case_id: int) -> list[AuditEvent]:
    """Every change to a case and its timeline, oldest first."""
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.case_id == case_id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db.session.execute(query).scalars())


def entity_history(entity: str, entity_id: int) -> list[AuditEvent]:
    """Every change to one row (e.g. a client), oldest first."""
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db.session.execute(query).scalars())


def case_id_for(reference: str) -> int | None:
    """The id of the case with this reference (the trail outlives cases, so this reads the
    table directly rather than through the cases area, which sits above this one)."""
    cases = sa.table("cases", sa.column("id"), sa.column("reference"))
    return db.session.execute(
        sa.select(cases.c.id).where(cases.c.reference == reference.strip().upper())
    ).scalar_one_or_none()


def event_page(filters: dict, page: int, per_page: int):
    """Audit events, newest first. Filters: actor_id, case_id, occurred from/to (calendar days
    in UTC, both included)."""
    query = sa.select(AuditEvent).options(joinedload(AuditEvent.actor))
    if (actor_id := filters.get("actor_id")) is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if "case_id" in filters:  # None: no such case, so no events
        case_id = filters["case_id"]
        query = query.where(AuditEvent.case_id == case_id if case_id is not None else sa.false())
    if day := filters.get("occurred_from"):
        query = query.where(AuditEvent.occurred_at >= datetime.combine(day, time(), UTC))
    if day := filters.get("occurred_to"):
        end = datetime.combine(day + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.occurred_at < end)
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def shown_changes(event: AuditEvent, key: bytes | None = None, row: str | None = None) -> dict:
    """The event's changes as a person may read them: sealed values opened when the data key
    of the client they belong to is given (and was not erased), else marked as sealed."""
    shown = {}
    for field, values in (event.changes or {}).items():
        context = f"{event.entity}.{field}.{row}"
        shown[field] = [_opened(value, key, context) for value in values]
    return shown


def _opened(value, key: bytes | None, context: str):
    if not (isinstance(value, str) and value.startswith(SEALED)):
        return value
    if key is None:
        return str(_l("(sealed)"))
    try:
        return unseal(key, base64.b64decode(value[len(SEALED) :]), context)
    except KeyError_:
        return str(_l("(sealed)"))
