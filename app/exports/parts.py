"""A long cases export read in parts by helper processes, one per processor.

Opening a sealed summary costs more than everything else an exported row needs (unwrapping the
client's key, making its cipher, opening the text: three calls into `cryptography`, which keeps
Python's interpreter lock while it works), so one process cannot go faster than that. A long
export is cut into parts by case id; helper processes, forked from this one, each read a part
with a connection of their own and write its lines, and this process hands the parts on in
order. At most one part per helper, plus one, is waiting at any time, so memory stays flat.

What each part sees: on PostgreSQL, the helpers import the exporting transaction's snapshot,
so the file is the database at one moment, as a single reader would give it. On SQLite each
helper reads from its own moment, taken when it starts, a few milliseconds apart; a case saved
in those milliseconds may be written as it was before.
"""

import multiprocessing
import os
import signal
import sqlite3
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import case_conditions
from app.crypto import Keys, Opener
from app.exports.queries import (
    CaseLines,
    case_batches,
    case_export_query,
    driver_batches,
    statement,
)
from app.extensions import db

PART_IDS = 2_500  # case ids a part covers: half a megabyte of lines


def helpers_wanted() -> int:
    """How many helper processes an export may use: HUQUQ_EXPORT_HELPERS, else one per
    processor (at most 4); fewer than 2 means none."""
    wanted = current_app.config.get("HUQUQ_EXPORT_HELPERS")
    if wanted is None:
        wanted = min(os.cpu_count() or 1, 4)
    return int(wanted) if int(wanted) >= 2 else 0


def part_ranges(filters: dict, viewer: User | None, size: int) -> list[tuple[int, int]]:
    """Consecutive id ranges, ``size`` ids each, from the first case the export may hold to the
    last (read from the index, not the rows)."""
    bounds = sa.select(sa.func.min(Case.id), sa.func.max(Case.id)).where(
        *case_conditions(filters, viewer)
    )
    first, last = db.session.execute(bounds).one()
    if first is None:
        return []
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def parts_wanted(filters: dict, viewer: User | None) -> tuple[int, list[tuple[int, int]]]:
    """Helpers and id ranges for this export, or (0, []) when one process will do: one
    processor, a database in memory, or too few cases to be worth it."""
    helpers = helpers_wanted()
    if not helpers or not db.engine.url.database or db.engine.url.database == ":memory:":
        return 0, []
    size = current_app.config.get("HUQUQ_EXPORT_PART_IDS", PART_IDS)
    ranges = part_ranges(filters, viewer, size)
    return (helpers, ranges) if len(ranges) >= 2 else (0, [])


def written_cases(
    filters: dict, viewer: User | None, identified: bool
) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) of the cases export, a batch or a part at a time: in parts by helper
    processes when the export is long and there are processors for them, else here, batch by
    batch."""
    helpers, ranges = parts_wanted(filters, viewer)
    if helpers:
        parts = (case_export_query(filters, viewer, identified, ids) for ids in ranges)
        yield from text_in_parts(parts, identified, helpers)
        return
    write = CaseLines(Opener(), identified)
    batches = case_batches(case_export_query(filters, viewer, identified))
    try:
        for batch in batches:
            yield len(batch), write(batch).encode()
    finally:
        batches.close()


def text_in_parts(
    parts: Iterator[sa.Select], identified: bool, helpers: int
) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) for each query of ``parts``, in order, written by helper processes (in
    UTF-8: bytes cross between processes as they are, text would be encoded and decoded)."""
    connection = db.session.connection()
    dialect = connection.dialect
    target = target_of(connection)
    ring: Keys = current_app.extensions["huquq_keys"]
    pool = ProcessPoolExecutor(
        helpers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start,
        initargs=(target, ring, identified),
    )
    waiting: deque = deque()

    def next_part() -> None:
        for part in parts:
            waiting.append(pool.submit(_write_part, *statement(part, dialect)))
            return

    try:
        for _ in range(helpers + 1):
            next_part()
        while waiting:
            done = waiting.popleft().result()
            next_part()
            yield done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def target_of(connection) -> tuple:
    """What a helper needs to read what this connection reads."""
    url = connection.engine.url
    if connection.dialect.name != "postgresql":
        return ("sqlite", url.database, None)
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return ("postgresql", conninfo, snapshot)


# In a helper process: its connection and writer, made once by ``_start``.
_helper: dict = {}


def _start(target: tuple, ring: Keys, identified: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the exporting process decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _helper.update(driver=connect(target), write=CaseLines(Opener(ring), identified))


def connect(target: tuple):
    """A helper's own read-only connection, reading from the moment ``target_of`` gave."""
    kind, where, snapshot = target
    if kind == "postgresql":
        import psycopg

        driver = psycopg.connect(where)
        driver.read_only = True
        driver.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        driver.execute(psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
        return driver
    driver = sqlite3.connect(where, isolation_level=None)
    driver.execute("PRAGMA query_only = ON")
    driver.execute("BEGIN")
    driver.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the read starts now
    return driver


def _write_part(sql: str, params) -> tuple[int, bytes]:
    driver, write = _helper["driver"], _helper["write"]
    rows, lines = 0, []
    for batch in driver_batches(driver, sql, params):
        rows += len(batch)
        lines.append(write(batch))
    return rows, "".join(lines).encode()
