"""Engine set-up that makes SQLite behave for a multi-user web app.

- foreign keys on, WAL journal (readers never block the writer), a busy timeout, and a WAL
  file cut back to ``WAL_LIMIT`` once a checkpoint has emptied it (else it keeps the size of
  its busiest moment);
- write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
  writers queue on the busy timeout instead of one failing with "database is locked" when it
  tries to upgrade a read transaction. Requests that cannot write (GET, HEAD, OPTIONS) begin
  deferred, so a long read never holds the write lock; what such a request must still write
  (an export's audit record) goes in a short transaction of its own, ``writing()``;
- the database file, and with it its WAL and shared-memory files, readable by its owner only.
"""

import logging
import os
import sqlite3
import stat
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path

import click
import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import db

log = logging.getLogger(__name__)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WAL_LIMIT = 4 * 1024 * 1024  # bytes the WAL file is cut back to: about one checkpoint's worth
_reading = ContextVar("reading", default=False)
_writing = ContextVar("writing", default=False)


def _begin_mode() -> str:
    if _writing.get():
        return "BEGIN IMMEDIATE"
    if _reading.get() or (has_request_context() and request.method in READ_ONLY_METHODS):
        return "BEGIN"
    return "BEGIN IMMEDIATE"


@contextmanager
def writing():
    """A short write transaction of its own, wherever it runs: in a GET, or in a streamed
    response after its view has returned. What the session did before is committed first (in
    a GET that was only reading); then, on SQLite, the transaction begins with BEGIN
    IMMEDIATE, taking the write lock up front and waiting for it on the busy timeout, instead
    of reading first and failing with "database is locked" when the read turns into a write
    after someone else's save. Committed at the end of the block, rolled back on an error.

    Raises ``OperationalError`` (answered with a 503 page) when the lock cannot be had within
    the busy timeout: nothing of the block is written then."""
    db.session.commit()
    token = _writing.set(True)
    try:
        db.session.connection()
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _writing.reset(token)


def begin_reading() -> None:
    """Start the session's transaction as a read (a deferred BEGIN on SQLite) wherever it
    runs: an export from the command line reads for a long while and must not hold the write
    lock, or everyone else's saves would wait on it."""
    token = _reading.set(True)
    try:
        db.session.connection()
    finally:
        _reading.reset(token)


# PostgreSQL's "wait your turn" errors: lock_not_available (lock_timeout), query_canceled
# (statement_timeout), deadlock_detected, serialization_failure.
_PG_BUSY = frozenset({"55P03", "57014", "40P01", "40001"})


def is_busy(error: Exception) -> bool:
    """Whether a database error means "busy" (a lock not had in time) rather than "unreachable":
    SQLite's "database is locked" after its busy timeout, PostgreSQL's lock and statement
    timeouts. Busy is worth retrying in seconds; unreachable is for an operator."""
    cause = getattr(error, "orig", error)
    if isinstance(cause, sqlite3.OperationalError):
        message = str(cause).lower()
        return "locked" in message or "busy" in message
    return getattr(cause, "sqlstate", None) in _PG_BUSY


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    if engine.dialect.name != "sqlite":
        return
    keep_private(engine.url.database)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(_begin_mode())


def configure_postgresql(engine: Engine, lock_timeout_ms: int) -> None:
    """A statement that waits longer than ``lock_timeout_ms`` for a lock (a row another
    transaction is changing) fails with lock_not_available, answered with a "busy, try again"
    page, as SQLite's busy timeout is, instead of holding a worker's thread for ever."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        dbapi_connection.commit()


PRIVATE = 0o600
SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def keep_private(database: str | None) -> None:
    """The SQLite database readable and writable by its owner only, before SQLite opens it:
    a new file is made with mode 600 (SQLite gives its WAL and shared-memory files the
    database file's mode), and an existing one, with the files beside it, is tightened."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():  # made here, before SQLite makes it with the umask's mode (644)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    for suffix in SQLITE_FILES:
        tighten(path.with_name(path.name + suffix), PRIVATE)


def tighten(path: Path, mode: int) -> None:
    """Take from ``path`` every permission ``mode`` does not give (group and others'), if it
    is there; a file this process may not change is left, with a warning."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            path.chmod(current & mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("%s is readable by others and cannot be changed here", path)


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


class Migrations:
    """What ``app.extensions["migrate"]`` must offer Flask-Migrate's commands and
    ``migrations/env.py``. The Migrate object — and with it Alembic, about 10 MB — is made on
    first use: a web worker never migrates, and carries none of it."""

    def __init__(self, directory: str, **configure_args) -> None:
        self.db, self.directory, self.configure_args = db, directory, configure_args

    @cached_property
    def migrate(self):
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **self.configure_args)


class MigrationCommands(click.Command):
    """``flask db …``: Flask-Migrate's command group, imported only when it is called."""

    def make_context(self, info_name, args, parent=None, **extra):
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)
