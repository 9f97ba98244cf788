"""Engine set-up that makes SQLite behave for a multi-user web app.

- foreign keys on, WAL journal (readers never block the writer), a busy timeout;
- write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
  writers queue on the busy timeout instead of one failing with "database is locked" when it
  tries to upgrade a read transaction. Requests that cannot write (GET, HEAD, OPTIONS) begin
  deferred, so a long read never holds the write lock.
"""

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begin_mode() -> str:
    if has_request_context() and request.method in READ_ONLY_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(_begin_mode())


def reattach(obj):
    """``obj`` in the current session. A streamed response (a CSV download, an import's
    progress page) runs after its view has returned, in a session of its own; objects loaded
    by the view, the logged-in user included, belong to a session that is closed by then."""
    return db.session.merge(obj) if obj is not None else None


def refresh_statistics() -> None:
    """After a bulk load: PostgreSQL plans from table statistics that autovacuum would gather
    only later; without them it guesses a few thousand rows and sorts on disk."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
