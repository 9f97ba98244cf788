"""The audit trail, written by the ORM itself so that no write can escape it.

Models opt in with ``__audited__ = True``. Each inserted, updated or deleted audited row becomes
an ``AuditEvent`` in the same transaction as the change, so a failed audit write rolls the change
back with it. The acting user is declared by the service doing the write, with ``acting(by)``;
an audited flush with nobody declared is refused, so a write path that forgets is caught in
testing. Bulk UPDATE and DELETE statements on audited tables are refused: they would change rows
without the ORM seeing each one.
"""

import base64
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy import event, inspect

from app import models_base
from app.audit.models import AuditEvent, DataVersion
from app.extensions import db

ACTOR = "audit_actor"
_DELETED = "audit_deleted"
REDACTED = "[redacted]"
SEALED = "sealed:"
ALWAYS_SKIPPED = frozenset({"created_at", "updated_at"})
# The tables the remembered figures (app.audit.queries.unchanged_since_last_view) are computed
# from: a commit that changes one of them counts the data version up. A note, a deadline or a
# login does not, so their saves never wait on the version's row lock.
# tests/reports/test_figures_fresh.py checks that the figures read no other table.
FIGURE_TABLES = frozenset({"cases", "clients"})
_FIGURES_CHANGED = "figures_changed"


class BulkWriteRefused(RuntimeError):
    """A bulk UPDATE/DELETE on an audited table: it would bypass the audit trail."""


class UndeclaredActor(RuntimeError):
    """An audited change was flushed without a service declaring who made it."""


def acting(by) -> None:
    """Declare who makes the changes in the current session (None: the command line or the
    system). Every service that writes calls this first."""
    db.session.info[ACTOR] = by.id if by is not None else None


def record_event(action: str, entity: str, changes: dict, entity_id: int | None = None) -> int:
    """An event that is not one row's change (e.g. a bulk demo seed, a wrong password given for
    an account), in the current transaction; its id."""
    table = AuditEvent.__table__
    row = _row(db.session, action, entity, entity_id, None, changes)
    return db.session.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()


def insert_changes(model, values: dict) -> dict:
    """What the trail records for a new row of ``model`` whose columns (by column name) hold
    ``values``: exactly what the ORM's own hook records, for a writer that inserts many rows
    at once without the ORM (app/imports/bulk.py)."""
    changes = {}
    for name, is_redacted in _recorded_columns(model):
        value = values.get(name)
        if value is not None:
            changes[name] = [None, REDACTED if is_redacted else _plain(value)]
    return changes


@cache
def _recorded_columns(model) -> tuple[tuple[str, bool], ...]:
    """(column name, redacted?) of every column of ``model`` the trail records."""
    skipped = ALWAYS_SKIPPED | getattr(model, "__audit_skip__", frozenset())
    redacted = getattr(model, "__audit_redact__", frozenset())
    return tuple(
        (_name(attr), attr.key in redacted)
        for attr in inspect(model).column_attrs
        if attr.key not in skipped
    )


def change(old, new) -> list:
    """A changed field as the trail records it: [old, new], sealed values kept sealed."""
    return [_plain(old), _plain(new)]


def event_row(action: str, entity: str, entity_id, case_id, changes: dict) -> dict:
    """An audit event as a row to insert (with others, in bulk), by the declared actor."""
    return _row(db.session, action, entity, entity_id, case_id, changes)


def _is_audited(obj) -> bool:
    return getattr(type(obj), "__audited__", False)


def _audited_mappers():
    return [m for m in db.Model.registry.mappers if getattr(m.class_, "__audited__", False)]


def _plain(value):
    if isinstance(value, bytes):  # a sealed value stays sealed in the trail
        return SEALED + base64.b64encode(value).decode()
    if isinstance(value, datetime | date | time):  # a hearing's time: "14:30:00"
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fields(obj) -> dict:
    """Audited column values of ``obj`` (loading any that were expired)."""
    cls = type(obj)
    skipped = ALWAYS_SKIPPED | getattr(cls, "__audit_skip__", frozenset())
    redacted = getattr(cls, "__audit_redact__", frozenset())
    return {
        _name(attr): REDACTED if attr.key in redacted else _plain(getattr(obj, attr.key))
        for attr in inspect(cls).column_attrs
        if attr.key not in skipped
    }


def _name(attr) -> str:
    """A field's name in the trail: its column's (``full_name``, not ``_full_name``)."""
    return attr.columns[0].name


def _updates(obj) -> dict:
    cls = type(obj)
    skipped = ALWAYS_SKIPPED | getattr(cls, "__audit_skip__", frozenset())
    redacted = getattr(cls, "__audit_redact__", frozenset())
    state = inspect(obj)
    changes = {}
    for attr in inspect(cls).column_attrs:
        if attr.key in skipped:
            continue
        history = state.attrs[attr.key].history
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if history.added and old != new:
            changes[_name(attr)] = (
                [REDACTED, REDACTED] if attr.key in redacted else [_plain(old), _plain(new)]
            )
    return changes


def _case_id(obj) -> int | None:
    return obj.id if obj.__tablename__ == "cases" else getattr(obj, "case_id", None)


def _row(session, action, entity, entity_id, case_id, changes) -> dict:
    if ACTOR not in session.info:
        raise UndeclaredActor(f"{action} on {entity} without acting(by=...)")
    return {
        "occurred_at": models_base.utcnow(),
        "actor_id": session.info[ACTOR],
        "via": "web" if has_request_context() else "cli",
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "case_id": case_id,
        "changes": changes,
    }


def _before_flush(session, flush_context, instances) -> None:
    # A deleted row's values must be read before the DELETE runs.
    session.info[_DELETED] = [
        (obj.__tablename__, obj.id, _case_id(obj), {k: [v, None] for k, v in _fields(obj).items()})
        for obj in session.deleted
        if _is_audited(obj)
    ]


def _after_flush(session, flush_context) -> None:
    rows = [
        _row(
            session,
            "insert",
            obj.__tablename__,
            obj.id,
            _case_id(obj),
            {k: [None, v] for k, v in _fields(obj).items() if v is not None},
        )
        for obj in session.new
        if _is_audited(obj)
    ]
    for obj in session.dirty:
        if _is_audited(obj) and (changes := _updates(obj)):
            rows.append(_row(session, "update", obj.__tablename__, obj.id, _case_id(obj), changes))
    rows += [_row(session, "delete", *deleted) for deleted in session.info.pop(_DELETED, [])]
    if rows:
        session.connection().execute(sa.insert(AuditEvent.__table__), rows)
    if any(row["entity"] in FIGURE_TABLES for row in rows):
        session.info[_FIGURES_CHANGED] = True


def _written_table(state) -> str | None:
    """The table an INSERT, UPDATE or DELETE run through the session writes to."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    return getattr(table, "name", None)


def _note_bulk_writes(state) -> None:
    """Rows written without the ORM's flush (a demo seed's bulk INSERTs; an import, whose
    COPY the session never sees, writes its "import" event through it) change figures too."""
    if _written_table(state) in FIGURE_TABLES | {AuditEvent.__tablename__}:
        state.session.info[_FIGURES_CHANGED] = True


def _count_version_up(session) -> None:
    """Just before a commit that changed a figure table: the data version, one up. Last, so
    its row is locked (other such commits wait for it) only while this one commits."""
    session.flush()  # the commit's own flush comes after this hook; its changes count here
    if session.info.pop(_FIGURES_CHANGED, False):
        table = DataVersion.__table__
        session.connection().execute(
            sa.update(table).where(table.c.id == 1).values(version=table.c.version + 1)
        )


def _forget_changes(session, transaction) -> None:
    """A transaction ended without counting (rolled back): its changes are gone with it. (A
    savepoint's end does not forget: what was written before the savepoint still counts.)"""
    if transaction.parent is None:
        session.info.pop(_FIGURES_CHANGED, None)


def _refuse_bulk_writes(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    audited = {mapper.local_table.name for mapper in _audited_mappers()}
    if table is not None and table.name in audited:
        verb = "UPDATE" if state.is_update else "DELETE"
        raise BulkWriteRefused(
            f"bulk {verb} on {table.name} would bypass the audit trail; change rows one by one"
        )


def _with_old_value(target, value, oldvalue, initiator):
    return value


def install(session_class) -> None:
    """Hook the trail into every session of this class, once per process."""
    if event.contains(session_class, "after_flush", _after_flush):
        return
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "do_orm_execute", _refuse_bulk_writes)
    event.listen(session_class, "do_orm_execute", _note_bulk_writes)
    event.listen(session_class, "before_commit", _count_version_up)
    event.listen(session_class, "after_transaction_end", _forget_changes)
    sa.orm.configure_mappers()
    for mapper in db.Model.registry.mappers:
        if _is_audited(mapper.class_):
            # Load the old value of every column when it is set, even if it had expired, so
            # the trail can always say what a field was before.
            for attr in mapper.column_attrs:
                event.listen(
                    getattr(mapper.class_, attr.key),
                    "set",
                    _with_old_value,
                    active_history=True,
                    retval=True,
                )
