"""Less data kept: the retention rule, and erasing a client's identifying data. Each write takes
the acting user and is audited; the caller commits."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.services import acting
from app.auth.models import User
from app.clients.matching import search_digests
from app.clients.models import Client, ClientIndex
from app.crypto import ORGANISATION_KEY_CONTEXT, Keys, check_value, keys, unwrap, wrap
from app.errors import RuleViolation
from app.extensions import db
from app.security.models import KeyCheck, OrganisationKey, Setting
from app.security.queries import retention_due

SEALED_CLIENT_COLUMNS = (
    "_full_name",
    "_phone",
    "_messenger",
    "_document_number",
    "_born_on",
    "_notes",
    "_safe_contact",
)
RETENTION_MIN, RETENTION_MAX = 30, 3650


def settings() -> Setting:
    """The settings row (made with defaults when missing; the caller commits)."""
    row = db.session.get(Setting, 1)
    if row is None:
        row = Setting(id=1)
        db.session.add(row)
    return row


def record_key_check() -> None:
    """Write the check row that later starts verify the keys against (the keys must be this
    database's: ``queries.check_keys`` first). Done once, at the first request or command after
    the database was made; the caller commits."""
    if db.session.get(KeyCheck, 1) is None:
        sealed, digest = check_value(keys())
        db.session.add(KeyCheck(id=1, sealed=sealed, index_digest=digest))
        db.session.flush()


def set_retention(days: int | None, by: User) -> None:
    acting(by)
    if days is not None and not RETENTION_MIN <= days <= RETENTION_MAX:
        raise RuleViolation(
            _(
                "Between %(low)d and %(high)d days, or empty for never.",
                low=RETENTION_MIN,
                high=RETENTION_MAX,
            ),
            field="days",
        )
    settings().retention_days = days
    db.session.flush()


def erase_client(client: Client, today: date, by: User | None) -> None:
    """Erase what identifies the client and what their cases say in words (summaries, court or
    agency, article, school and grade, timeline texts, deadline titles); the pseudonym code,
    citizenship and every case's type, outcome, dates and region stay, so the numbers do not
    change. Dropping the client's data key also makes the sealed copies in the audit trail
    unreadable."""
    acting(by)
    for column in SEALED_CLIENT_COLUMNS:
        setattr(client, column, None)
    for case in client.cases:
        for row in (case, *case.entries, *case.deadlines):
            for name in row.SEALED_TEXTS:
                setattr(row, getattr(type(row), name).column_attr, None)
    client.data_key = None
    client.erased_on = today
    db.session.execute(sa.delete(ClientIndex).where(ClientIndex.client_id == client.id))
    db.session.flush()


def run_retention(today: date, by: User | None, dry_run: bool = False) -> int | None:
    """Apply the retention rule; None when it is off. Returns how many clients were (or, in a
    dry run, would be) erased."""
    days = settings().retention_days
    if days is None:
        return None
    due = retention_due(today, days)
    if not dry_run:
        for client_id in due:
            erase_client(db.session.get(Client, client_id), today, by)
    return len(due)


def rotate_keys(new: Keys) -> int:
    """Re-wrap every client's data key, and the organisation's, under a new master key and
    rebuild the search index under a new index key; the caller commits, then stores the new
    keys. Returns how many clients were done."""
    old = keys()
    done, last_id = 0, 0
    db.session.execute(sa.delete(ClientIndex))
    while True:
        batch = list(
            db.session.execute(
                sa.select(Client)
                .where(Client.id > last_id, Client.data_key.isnot(None))
                .order_by(Client.id)
                .limit(500)
            ).scalars()
        )
        if not batch:
            break
        rows = []
        for client in batch:
            context = client.seal_context("data_key")
            data_key = unwrap(client.data_key, context, old)
            client.sealing_key()  # opened with the old keys before the wrapping changes
            client.data_key = wrap(data_key, context, new)
            rows += [
                {"client_id": client.id, "kind": kind, "digest": digest}
                for kind, digest in search_digests(
                    client.full_name, client.phone, client.document_number, new
                )
            ]
        if rows:
            db.session.execute(sa.insert(ClientIndex), rows)
        db.session.flush()
        done, last_id = done + len(batch), batch[-1].id
    organisation = db.session.get(OrganisationKey, 1)
    organisation.wrapped = wrap(
        unwrap(organisation.wrapped, ORGANISATION_KEY_CONTEXT, old), ORGANISATION_KEY_CONTEXT, new
    )
    sealed, digest = check_value(new)
    check = db.session.get(KeyCheck, 1)
    check.sealed, check.index_digest = sealed, digest
    db.session.flush()
    return done
