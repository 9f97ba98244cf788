"""Reads for keys and settings."""

import sqlalchemy as sa

from app.clients.models import Client
from app.crypto import check_value, keys, verify
from app.extensions import db
from app.security.models import KeyCheck, Setting


def check_keys() -> None:
    """Verify the loaded keys against the database's check row, writing it on first use.
    A database not migrated yet is left alone. Raises crypto.KeyError_ on a mismatch."""
    if not sa.inspect(db.engine).has_table("key_check"):
        return
    row = db.session.execute(sa.select(KeyCheck)).scalar_one_or_none()
    if row is None:
        # No check row yet: the keys must at least open a client's data key, if there is one.
        sample = db.session.execute(
            sa.select(Client).where(Client.data_key.isnot(None)).limit(1)
        ).scalar_one_or_none()
        if sample is not None:
            sample.sealing_key()
        sealed, digest = check_value(keys())
        db.session.add(KeyCheck(id=1, sealed=sealed, index_digest=digest))
        db.session.commit()
    else:
        verify(keys(), row.sealed, row.index_digest)
        db.session.rollback()


def settings() -> Setting:
    """The settings row (made with defaults when missing; the caller commits)."""
    row = db.session.get(Setting, 1)
    if row is None:
        row = Setting(id=1)
        db.session.add(row)
    return row


def retention_days() -> int | None:
    row = db.session.get(Setting, 1)
    return row.retention_days if row is not None else None
