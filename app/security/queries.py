"""Reads for keys, settings and retention."""

from datetime import date, timedelta

import sqlalchemy as sa

from app.cases.models import Case
from app.clients.models import Client
from app.crypto import keys, verify
from app.extensions import db
from app.security.models import KeyCheck, Setting


def check_keys() -> bool:
    """Verify the loaded keys against the database's check row; before there is one, they
    must at least open a client's data key, if there is one. Only reads. True when the check
    row is still to be written (``services.record_key_check``); False when it is there, or the
    database is not migrated yet (left alone). Raises crypto.KeyError_ on a mismatch."""
    if not sa.inspect(db.engine).has_table("key_check"):
        return False
    row = db.session.execute(sa.select(KeyCheck)).scalar_one_or_none()
    if row is not None:
        verify(keys(), row.sealed, row.index_digest)
        return False
    sample = db.session.execute(
        sa.select(Client).where(Client.data_key.isnot(None)).limit(1)
    ).scalar_one_or_none()
    if sample is not None:
        sample.sealing_key()
    return True


def retention_days() -> int | None:
    row = db.session.get(Setting, 1)
    return row.retention_days if row is not None else None


def retention_due(today: date, days: int) -> list[int]:
    """Clients whose data the rule erases now: not erased yet, no open case, and their last
    case closed (or, with no case, the client added) more than ``days`` days ago."""
    cutoff = today - timedelta(days=days)
    open_cases = sa.select(Case.client_id).where(Case.is_open)
    last_closed = (
        sa.select(Case.client_id, sa.func.max(Case.closed_on).label("closed_on"))
        .group_by(Case.client_id)
        .subquery()
    )
    query = (
        sa.select(Client.id)
        .outerjoin(last_closed, last_closed.c.client_id == Client.id)
        .where(
            Client.erased_on.is_(None),
            Client.id.not_in(open_cases),
            sa.or_(
                last_closed.c.closed_on < cutoff,
                sa.and_(
                    last_closed.c.closed_on.is_(None), sa.func.date(Client.created_at) < cutoff
                ),
            ),
        )
        .order_by(Client.id)
    )
    return list(db.session.execute(query).scalars())
