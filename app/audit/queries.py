"""Reads of the audit trail, and the data version: figures computed from the data are served
again while no commit has changed what they count."""

import base64
import functools
import threading
from collections import OrderedDict
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.audit.models import EXPORT_RESULTS, FACT_NAMES, AuditEvent, DataVersion
from app.audit.services import SEALED
from app.crypto import KeyError_, seal_context, unseal
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


def accounts() -> list:
    """Every account (id and email), enabled first, then by email: whose events to show. Read
    from the table directly, as ``case_id_for`` is: accounts sit above the trail."""
    users = sa.table("users", sa.column("id"), sa.column("email"), sa.column("is_enabled"))
    query = sa.select(users.c.id, users.c.email).order_by(users.c.is_enabled.desc(), users.c.email)
    return list(db.session.execute(query))


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
    of the client they belong to is given (and was not erased), else marked as sealed. An
    event that records facts (an export, an import) gives them by their names in the
    reader's language, each as [None, value]."""
    if event.records_facts:
        return _facts(event)
    shown = {}
    for field, values in (event.changes or {}).items():
        context = seal_context(event.entity, field, row)
        shown[field] = [_opened(value, key, context) for value in values]
    return shown


def _facts(event: AuditEvent) -> dict:
    """An export's two events share its number (the id of the one that started it), so the
    end of each export can be told apart when several run at once."""
    facts = dict(event.changes or {})
    if event.action == "export_started":
        facts = {"export": [None, event.id], **facts}
    return {
        str(FACT_NAMES.get(name, name.replace("_", " "))): [None, _fact(name, values[-1])]
        for name, values in facts.items()
    }


def _fact(name: str, value):
    if name == "export":
        return _("no. %(number)s", number=value)
    if name == "result":
        return str(EXPORT_RESULTS.get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items()) or _("none")
    return value


def _opened(value, key: bytes | None, context: str):
    if not (isinstance(value, str) and value.startswith(SEALED)):
        return value
    if key is None:
        return str(_l("(sealed)"))
    try:
        return unseal(key, base64.b64decode(value[len(SEALED) :]), context)
    except KeyError_:
        return str(_l("(sealed)"))


def data_stamp() -> tuple:
    """The data version: counted up by every commit that changes a table the figures are
    computed from, in that commit (``app.audit.services.FIGURE_TABLES``), so while it is the
    same, so is every figure. (Not the newest audit event's id: that is taken at insert, and
    a slow transaction can commit an older one after a newer one was seen.) Looked up once
    per page view (a GET changes no figures). Empty when the row is missing: nothing is then
    remembered."""
    reading = has_request_context() and request.method == "GET"
    if reading and "data_stamp" in g:
        return g.data_stamp
    version = db.session.execute(
        sa.select(DataVersion.version).where(DataVersion.id == 1)
    ).scalar_one_or_none()
    stamp = () if version is None else (version,)
    if reading:
        g.data_stamp = stamp
    return stamp


_FIGURES = "huquq.figures"  # this app's _Remembered, in app.extensions


class _Remembered:
    """The last figures computed in this worker, at most ``size``, the oldest dropped first."""

    def __init__(self, size: int = 128) -> None:
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def forget_figures() -> _Remembered:
    """Drop the remembered figures (after the database is swapped under the app, as in a
    restore, or between tests that roll the database back)."""
    store = current_app.extensions[_FIGURES] = _Remembered()
    return store


def unchanged_since_last_view(compute):
    """Serve ``compute``'s figures again, without its GROUP BY, while ``data_stamp`` is the
    same as when they were computed: the dashboard seen twice costs one indexed lookup a figure.
    Arguments with a ``key`` (report filters) are remembered by it; the answer must not be
    changed by its callers."""

    @functools.wraps(compute)
    def remembered(*args):
        stamp = data_stamp()
        if not stamp:
            return compute(*args)
        store = current_app.extensions.get(_FIGURES) or forget_figures()
        key = (compute.__name__, stamp, *(getattr(a, "key", a) for a in args))
        return store.get(key, lambda: compute(*args))

    return remembered
