"""A long cases export read in parts by helper processes, one per processor.

Opening a sealed summary costs more than everything else an exported row needs (unwrapping the
client's key, making its cipher, opening the text: three calls into `cryptography`, which keeps
Python's interpreter lock while it works), so one process cannot go faster than that. A long
export is cut into parts by case id; helper processes read and write the parts in turn, each
with a connection of its own, and this process hands the parts on in order. A finished part
waits in its helper's pipe, at most one per helper, so memory stays flat.

Helpers are forked by a fork server (``helpers``), never by this process: a web
worker runs threads, and a child forked there can inherit a lock held for ever. Each part must
come within ``HUQUQ_EXPORT_PART_TIMEOUT`` seconds of being asked for; a helper that does not
answer in time is killed and the export ends with an error, never a wait for ever.

What each part sees: on PostgreSQL, the helpers import the exporting transaction's snapshot,
so the file is the database at one moment, as a single reader would give it. On SQLite each
helper reads from its own moment, taken when it starts, a few milliseconds apart; a case saved
in those milliseconds may be written as it was before.
"""

import os
import sqlite3
from collections.abc import Iterator
from functools import partial

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.crypto import Keys, Opener
from app.exports.engine.fast import CaseLines, Statement, postgresql_reading
from app.exports.engine.helpers import Helper, Output, start_helper, start_server
from app.exports.queries import case_id_bounds
from app.extensions import db

PART_IDS = 2_500  # case ids a part covers: half a megabyte of lines
PART_TIMEOUT = 30.0  # seconds a part may take: a part takes milliseconds, a busy one seconds


def helpers_wanted(config=None) -> int:
    """How many helper processes an export may use: HUQUQ_EXPORT_HELPERS, else one per
    processor (at most 4); fewer than 2 means none."""
    wanted = (current_app.config if config is None else config).get("HUQUQ_EXPORT_HELPERS")
    if wanted is None:
        wanted = min(os.cpu_count() or 1, 4)
    return int(wanted) if int(wanted) >= 2 else 0


def part_timeout() -> float:
    """Seconds a helper has to send its next part before it is killed."""
    return float(current_app.config.get("HUQUQ_EXPORT_PART_TIMEOUT") or PART_TIMEOUT)


def _driver_modules(dialect: str) -> tuple[str, ...]:
    """What a helper imports besides this module, loaded once in the fork server."""
    return ("psycopg",) if dialect == "postgresql" else ()


def prepare_helpers(app) -> None:
    """Start this process's fork server for export helpers now, when exports will use them
    (a gunicorn worker, as it starts: the first export then does not wait for it)."""
    with app.app_context():
        url = db.engine.url
        if helpers_wanted(app.config) and url.database and url.database != ":memory:":
            start_server((__name__, *_driver_modules(db.engine.dialect.name)))


def part_ranges(filters: dict, viewer: User | None, size: int) -> list[tuple[int, int]]:
    """Consecutive id ranges, ``size`` ids each, from the first case the export may hold to the
    last."""
    first, last = case_id_bounds(filters, viewer)
    if first is None:
        return []
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def parts_wanted(
    filters: dict, viewer: User | None, helpers: int | None = None
) -> tuple[int, list[tuple[int, int]]]:
    """Helpers and id ranges for this export, or (0, []) when one process will do: one
    processor (or ``helpers`` below 2), a database in memory, helpers that could not read what
    this transaction reads, or too few cases to be worth it."""
    helpers = helpers_wanted() if helpers is None else (helpers if helpers >= 2 else 0)
    url = db.engine.url
    if not helpers or not url.database or url.database == ":memory:":
        return 0, []
    if not _helpers_see_what_this_reads(db.session.connection()):
        return 0, []
    size = int(current_app.config.get("HUQUQ_EXPORT_PART_IDS") or PART_IDS)
    ranges = part_ranges(filters, viewer, size)
    return (helpers, ranges) if len(ranges) >= 2 else (0, [])


def _helpers_see_what_this_reads(connection) -> bool:
    """Whether helpers, with connections of their own, would read what this connection's
    transaction reads: not if it may hold writes of its own, not yet committed (a savepoint
    inside someone's transaction, as in the tests; on PostgreSQL, any transaction that has
    written). The cases export reads in a transaction of its own that has written nothing."""
    if connection.in_nested_transaction():
        return False
    if connection.dialect.name == "postgresql":
        written = connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar()
        return written is None
    return True


def written_in_parts(
    query: sa.Select, ranges: list[tuple[int, int]], identified: bool, helpers: int
) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) of ``query`` (a ``case_export_query`` for parts) for each range of case
    ids, in order, written by helper processes in UTF-8.

    Helper k writes parts k, k + helpers, k + 2 × helpers… into a pipe of its own, and this
    process reads the parts in order from one helper's pipe after another's. A finished part
    waits in its pipe (in the kernel, not in this process) while the helper goes on with its
    next one; a helper whose pipe is still full waits, so memory stays flat. Whatever ends the
    export (the last part, an error, a helper too slow, a download cut off), every helper has
    ended when this does."""
    connection = db.session.connection()
    compiled = Statement(query, connection.dialect)
    target = target_of(connection)
    keys: Keys = current_app.extensions["huquq_keys"]
    timeout, preload = part_timeout(), _driver_modules(connection.dialect.name)
    if target[0] == "sqlite":
        # Helpers read from moments of their own: this read is over, so it keeps nothing in
        # the WAL from being checkpointed while the export runs.
        db.session.rollback()
    started: list[Helper] = []
    finished = False
    try:
        for k in range(helpers):
            params = [compiled.params(first=first, last=last) for first, last in ranges[k::helpers]]
            job = (target, keys, identified, compiled.sql, params)
            started.append(start_helper(_help, *job, timeout=timeout, preload=preload))
        for index in range(len(ranges)):
            yield started[index % helpers].received(timeout)
        finished = True
    finally:
        for helper in started:  # done, they end by themselves; otherwise they are killed now
            helper.end(kill=not finished)


def target_of(connection) -> tuple:
    """What a helper needs to read what this connection reads."""
    url = connection.engine.url
    if connection.dialect.name != "postgresql":
        return ("sqlite", os.path.abspath(url.database), None)
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return ("postgresql", conninfo, snapshot)


def _help(out: Output, target: tuple, keys: Keys, identified: bool, sql: str, parts: list):
    """A helper process: reads each of its parts (the parameters of ``sql``) with a connection
    of its own, and sends its rows and lines to ``out``; an error is sent instead, and ends
    its work."""
    driver = None
    try:
        driver = connect(target)
        # PostgreSQL's rows in binary form: the sealed columns arrive as bytes, not as hex.
        read = partial(driver.execute, binary=True) if target[0] == "postgresql" else driver.execute
        write = CaseLines(Opener(keys), identified)
        for params in parts:
            # A part is small: read in one go (no cursor, one round trip).
            rows = read(sql, params).fetchall()
            out.part(len(rows), write(rows).encode())
    except Exception as error:
        out.failed(error)
    finally:
        if driver is not None:
            driver.close()  # the read ends here, not when the process does


def connect(target: tuple):
    """A helper's own read-only connection, reading from the moment ``target_of`` gave.

    On PostgreSQL its settings are made once for every part: the export's reading settings,
    and one generic plan for the part query, prepared on its first part and reused by the
    others (no planning for each part)."""
    kind, where, snapshot = target
    if kind == "postgresql":
        import psycopg

        driver = psycopg.connect(where, prepare_threshold=0)  # statements prepared at once
        driver.read_only = True
        driver.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        driver.execute(psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
        postgresql_reading(driver, plan_cache_mode="force_generic_plan")
        return driver
    driver = sqlite3.connect(where, isolation_level=None)  # keeps the statement it prepared
    driver.execute("PRAGMA query_only = ON")
    driver.execute("BEGIN")
    driver.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the read starts now
    return driver
