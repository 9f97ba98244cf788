"""A long cases export read in parts by helper processes, one per processor.

Opening a sealed summary costs more than everything else an exported row needs (unwrapping the
client's key, making its cipher, opening the text: three calls into `cryptography`, which keeps
Python's interpreter lock while it works), so one process cannot go faster than that. A long
export is cut into parts by case id; helper processes, forked from this one, read and write
the parts in turn, each with a connection of its own, and this process hands the parts on in
order. A finished part waits in its helper's pipe, at most one per helper, so memory stays
flat.

What each part sees: on PostgreSQL, the helpers import the exporting transaction's snapshot,
so the file is the database at one moment, as a single reader would give it. On SQLite each
helper reads from its own moment, taken when it starts, a few milliseconds apart; a case saved
in those milliseconds may be written as it was before.
"""

import contextlib
import fcntl
import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Iterator
from functools import partial

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import case_conditions
from app.crypto import Keys, Opener
from app.exports.queries import (
    CaseLines,
    Statement,
    case_batches,
    case_export_query,
    postgresql_reading,
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
        query = case_export_query(filters, viewer, identified, part=True)
        yield from text_in_parts(query, ranges, identified, helpers)
        return
    write = CaseLines(Opener(), identified)
    batches = case_batches(case_export_query(filters, viewer, identified))
    try:
        for batch in batches:
            yield len(batch), write(batch).encode()
    finally:
        batches.close()


def text_in_parts(
    query: sa.Select, ranges: list[tuple[int, int]], identified: bool, helpers: int
) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) of ``query`` (a ``case_export_query`` for parts) for each range of case
    ids, in order, written by helper processes in UTF-8.

    Helper k writes parts k, k + helpers, k + 2 × helpers… into a pipe of its own, and this
    process reads the parts in order from one helper's pipe after another's. A finished part
    waits in its pipe (in the kernel, not in this process) while the helper goes on with its
    next one; a helper whose pipe is still full waits, so memory stays flat."""
    connection = db.session.connection()
    compiled = Statement(query, connection.dialect)
    target = target_of(connection)
    ring: Keys = current_app.extensions["huquq_keys"]
    fork = multiprocessing.get_context("fork")
    pipes, processes = [], []
    try:
        for k in range(helpers):
            reader, writer = fork.Pipe(duplex=False)
            _widen(writer)
            pipes.append(reader)
            params = [compiled.params(first=first, last=last) for first, last in ranges[k::helpers]]
            process = fork.Process(
                target=_help,
                args=(writer, target, ring, identified, compiled.sql, params),
                name=f"huquq-export-{k}",
                daemon=True,
            )
            process.start()
            processes.append(process)
            writer.close()  # the helper's now: this process sees the end if the helper dies
        for index in range(len(ranges)):
            yield _received(pipes[index % helpers])
    finally:
        for process in processes:  # a download cut off stops the helpers at once
            process.terminate()
        for process in processes:
            process.join()
        for reader in pipes:
            reader.close()


PIPE_BYTES = 1 << 20  # what a helper's pipe holds: a whole part, mostly (Linux's default limit)


def _widen(pipe) -> None:
    """Let the pipe hold a finished part, so the helper can go on without waiting for it to be
    read (where the system allows; otherwise the helper waits a little more)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or a lower limit
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _received(pipe) -> tuple[int, bytes]:
    """The next part from a helper's pipe: its rows and lines, or the error that stopped it."""
    try:
        rows, error = pipe.recv()
    except EOFError:
        raise RuntimeError("an export helper stopped before it finished its parts") from None
    if error is not None:
        raise error
    return rows, pipe.recv_bytes()


def target_of(connection) -> tuple:
    """What a helper needs to read what this connection reads."""
    url = connection.engine.url
    if connection.dialect.name != "postgresql":
        return ("sqlite", url.database, None)
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return ("postgresql", conninfo, snapshot)


def _help(pipe, target: tuple, ring: Keys, identified: bool, sql: str, parts: list) -> None:
    """A helper process: reads each of its parts (the parameters of ``sql``) with a connection
    of its own, and sends its rows and lines down ``pipe``; an error is sent instead, and
    ends its work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the exporting process decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        driver = connect(target)
        # PostgreSQL's rows in binary form: the sealed columns arrive as bytes, not as hex.
        read = partial(driver.execute, binary=True) if target[0] == "postgresql" else driver.execute
        write = CaseLines(Opener(ring), identified)
        for params in parts:
            # A part is small: read in one go (no cursor, one round trip).
            rows = read(sql, params).fetchall()
            lines = write(rows).encode()
            pipe.send((len(rows), None))
            pipe.send_bytes(lines)
    except Exception as error:
        try:
            pipe.send((None, error))
        except Exception:  # an error that cannot be sent as it is
            pipe.send((None, RuntimeError(f"export helper: {error!r}")))
    finally:
        pipe.close()


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
