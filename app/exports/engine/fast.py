"""The fast path of the cases export, in this process: the export's query read through the
database driver's own cursor (SQLAlchemy compiles it, then steps aside), a batch read ahead in a
thread on PostgreSQL, and the cases writer, ``CaseLines``, which writes a batch of rows as the
one CSV writer (``app.csvfiles``) would, with shortcuts that the tests hold to that."""

import queue
import threading
from collections.abc import Iterator
from itertools import chain
from operator import itemgetter

import sqlalchemy as sa

from app.crypto import Opener
from app.csvfiles import cell, need_nothing
from app.extensions import db

_CODES = itemgetter(0, 1, 4, 5)  # reference, case_type, pseudonym, citizenship


class CaseLines:
    """Writes batches of ``case_export_query`` rows as CSV text, opening the sealed cells on
    the way. Written for speed, as it runs once per exported case:
    - the code cells (reference, case type, pseudonym code, citizenship) are shown to need
      nothing for a whole batch at once (``need_nothing``) and written as they are; in a
      batch where one needs something every cell goes through ``cell``, so nothing here relies
      on how the codes were made;
    - the outcome is one of a few words (the database checks it), dates are YYYY-MM-DD;
    - a region or an email is written once and remembered (there are few of them);
    - the summary, and the name in an identified export, go through ``cell`` as they are opened."""

    REMEMBERED = 4096  # regions and emails; past this many the memory starts again

    def __init__(self, opener: Opener, identified: bool) -> None:
        self.opener, self.identified = opener, identified
        self.written: dict = {}

    def __call__(self, batch: list[tuple]) -> str:
        codes_need_nothing = need_nothing(chain.from_iterable(map(_CODES, batch)))
        if len(self.written) > self.REMEMBERED:
            self.written.clear()
        text_of, identified, written = self.opener.text, self.identified, self.written
        lines = []
        for (
            reference,
            case_type,
            opened_on,
            region,
            pseudonym,
            citizenship,
            email,
            outcome,
            closed_on,
            next_deadline,
            summary,
            wrapped,
            full_name,
        ) in batch:
            text = cell(text_of(wrapped, pseudonym, summary, f"cases.summary.{reference}"))
            shown = (
                text_of(wrapped, pseudonym, full_name, f"clients.full_name.{pseudonym}")
                if identified
                else pseudonym
            )
            if not codes_need_nothing:  # every cell as the general writer has it
                cells = (reference, case_type, opened_on, region, shown, citizenship, email)
                cells += (outcome, closed_on, next_deadline)
                lines.append(",".join(map(cell, cells)) + "," + text)
                continue
            if identified:
                shown = cell(shown)
            if (region_cell := written.get(region)) is None:
                region_cell = written[region] = cell(region)
            if (email_cell := written.get(email)) is None:
                email_cell = written[email] = cell(email)
            lines.append(
                f"{reference},{case_type},{opened_on},{region_cell},{shown},{citizenship},{email_cell},"
                f"{outcome or ''},{closed_on or ''},{next_deadline or ''},{text}"
            )
        lines.append("")  # the last line ends with a line break too
        return "\r\n".join(lines)


def written_here(query: sa.Select, identified: bool) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) of ``query`` (a ``case_export_query``), a batch at a time, in UTF-8."""
    write = CaseLines(Opener(), identified)
    batches = case_batches(query)
    try:
        for batch in batches:
            yield len(batch), write(batch).encode()
    finally:
        batches.close()


def case_batches(query: sa.Select, size: int = 1000) -> Iterator[list[tuple]]:
    """The rows in batches from the database driver's own cursor on the session's connection:
    SQLAlchemy compiles the query and its parameters, then steps aside (its work per row would
    cost more than the reading does). Memory stays flat whatever the number of rows."""
    connection = db.session.connection()
    compiled = Statement(query, connection.dialect)
    driver = connection.connection.dbapi_connection
    return driver_batches(driver, compiled.sql, compiled.params(), size)


class Statement:
    """A query compiled once for the database driver, with the parameters the driver takes
    for any values of its bound parameters (compiling costs milliseconds; binding does not)."""

    def __init__(self, query: sa.Select, dialect) -> None:
        self.compiled = compiled = query.compile(dialect=dialect)
        self.sql: str = compiled.string
        # How each parameter is converted for the driver, as SQLAlchemy would (a date, on
        # SQLite, becomes its text): found once, not for every part.
        self.conversions = {
            name: convert
            for name, bind in compiled.binds.items()
            if (convert := bind.type.bind_processor(dialect)) is not None
        }

    def params(self, **values) -> dict | list:
        """The parameters, with ``values`` for the bound parameters of those names."""
        compiled = self.compiled
        bound = compiled.construct_params(values)
        for name, convert in self.conversions.items():
            if name in bound:
                bound[name] = convert(bound[name])
        return [bound[name] for name in compiled.positiontup] if compiled.positional else bound


def postgresql_reading(driver, **more: str) -> None:
    """How PostgreSQL reads for an export, for the rest of the driver connection's transaction:
    dates as ISO text (``iso_date``), no JIT (compiling a plan costs more than it saves on a
    stream of rows), and the settings in ``more``."""
    for name, value in {"DateStyle": "ISO, YMD", "jit": "off", **more}.items():
        driver.execute("SELECT set_config(%s, %s, true)", (name, value))  # SET LOCAL


def driver_batches(driver, sql: str, params, size: int = 1000) -> Iterator[list[tuple]]:
    """``sql``'s rows in batches from a driver connection (sqlite3 or psycopg).

    PostgreSQL (inside the caller's transaction, read as ``postgresql_reading`` says): a
    server-side cursor planned for every row (by default it is planned for the first tenth:
    nested loops, costly per fetch), rows in binary form (the sealed columns arrive as bytes,
    not as hex to decode); the next batch is fetched in a thread while this one is being
    written, so the server works while Python does."""
    if not hasattr(driver, "pgconn"):
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()
        return
    postgresql_reading(driver, cursor_tuple_fraction="1")
    with driver.cursor(name="huquq_export", binary=True) as cursor:
        cursor.execute(sql, params)
        yield from fetched_ahead(lambda: cursor.fetchmany(size))


def fetched_ahead(fetch) -> Iterator[list]:
    """What ``fetch()`` returns, call after call until it returns nothing, with the next call
    already under way in a thread (waiting on a socket lets the other thread run)."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def reader():
        try:
            while (item := fetch()) and hand_over(item):
                pass
            hand_over([])
        except Exception as error:  # raised again in the consumer's thread
            hand_over(error)

    thread = threading.Thread(target=reader, name="export-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, Exception):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        thread.join()
