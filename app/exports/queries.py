"""What the exports contain, as (headers, rows)."""

import queue
import threading
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from itertools import chain
from operator import itemgetter

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import case_conditions
from app.clients.models import Client
from app.crypto import Opener
from app.deadlines.models import Deadline
from app.exports.csvfile import field, plain
from app.extensions import db
from app.reports.metrics import Summary, rounded
from app.reports.queries import Period

REPORT_HEADERS = (
    "case_type",
    "period_from",
    "period_to",
    "opened",
    "open",
    "decided",
    "success",
    "partial",
    "failure",
    "withdrawn",
    "success_rate",
    "strict_rate",
    "ci_low",
    "ci_high",
    "benchmark_low",
    "benchmark_high",
    "comparison",
    "benchmark_source",
)


def _rate(value: Fraction | Decimal | float | None) -> str | None:
    """SPEC: four decimals, rounded half up from the exact value."""
    return None if value is None else f"{rounded(value, 4):.4f}"


def report_table(period: Period, rows: list[Summary], benchmarks: dict) -> list[tuple]:
    """SPEC's report rows: rates with 4 decimals; rate and interval cells empty where nothing
    was decided; benchmark cells empty where there is no benchmark."""
    table = []
    for row in rows:
        c = row.counts
        low, high = row.interval if row.interval else (None, None)
        source = benchmarks[row.key].source if row.benchmark_low is not None else None
        table.append(
            (
                row.key,
                period.start,
                period.end,
                c.opened,
                c.open,
                c.decided,
                c.success,
                c.partial,
                c.failure,
                c.withdrawn,
                _rate(row.rate),
                _rate(row.strict),
                _rate(low),
                _rate(high),
                _rate(row.benchmark_low),
                _rate(row.benchmark_high),
                row.comparison,
                source,
            )
        )
    return table


CASE_HEADERS = (
    "reference",
    "case_type",
    "opened_on",
    "region",
    "client_name",
    "citizenship",
    "assigned_to",
    "outcome",
    "closed_on",
    "next_deadline",
    "summary",
)


class iso_date(FunctionElement):
    """A date column as the CSV writes it, YYYY-MM-DD, already in the database."""

    type = sa.String()
    inherit_cache = True


@compiles(iso_date)
def _iso_date_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)  # SQLite keeps dates as that text


@compiles(iso_date, "postgresql")
def _iso_date_postgresql(element, compiler, **kw):
    # A date's own text form: YYYY-MM-DD under DateStyle ISO, which the export's readers set
    # (cheaper than to_char, which reads its pattern for every value).
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


# The first and last case id of a part of a long export: bound when each part is read.
PART = (sa.bindparam("first", type_=sa.Integer), sa.bindparam("last", type_=sa.Integer))


def case_export_query(
    filters: dict, user: User | None, identified: bool = False, part: bool = False
) -> sa.Select:
    """The case columns for the cases ``user`` may see that match the list's filters, and what
    ``CaseLines`` needs to open the sealed ones; next_deadline is the earliest open
    deadline. In the order the cases were entered: the table is read front to back, and a case
    entered since the last export is found at the end of the next one. ``part``: only the
    cases with ids from ``first`` to ``last`` (``PART``), bound when the query is run, so a
    long export compiles and plans its query once for all its parts."""
    cases = case_conditions(filters, user)
    # Read from the index on open deadlines by case (status, case_id, due_on).
    due_on = sa.func.min(Deadline.due_on).label("due_on")
    next_deadline = sa.select(Deadline.case_id, due_on).where(Deadline.is_open)
    if part:
        cases.append(Case.id.between(*PART))
        next_deadline = next_deadline.where(Deadline.case_id.between(*PART))
    next_deadline = next_deadline.group_by(Deadline.case_id).subquery()
    # The sealed name is read only for an identified export.
    full_name = Client._full_name if identified else sa.null()
    client = (Client.pseudonym, Client.citizenship, Client.data_key, full_name.label("full_name"))
    cases_and_clients = sa.join(Case, Client, Client.id == Case.client_id)
    if part and db.engine.dialect.name == "postgresql":
        # Looked up case by case: PostgreSQL would otherwise read every client for each part.
        # (OFFSET 0 keeps the planner from turning the lookup back into a join.)
        lookup = sa.select(*client).where(Client.id == Case.client_id).offset(0).lateral()
        cases_and_clients, client = sa.join(Case, lookup, sa.true()), tuple(lookup.c)
    pseudonym, citizenship, data_key, full_name = client
    return (
        sa.select(
            Case.reference,
            Case.case_type,
            iso_date(Case.opened_on),
            Case.region,
            pseudonym,
            citizenship,
            User.email,
            Case.outcome,
            iso_date(Case.closed_on),
            iso_date(next_deadline.c.due_on),
            Case._summary,
            data_key,
            full_name,
        )
        .select_from(cases_and_clients)
        .outerjoin(User, User.id == Case.assigned_to_id)
        .outerjoin(next_deadline, next_deadline.c.case_id == Case.id)
        .where(*cases)
        .order_by(Case.id)
    )


_CODES = itemgetter(0, 1, 4, 5)  # reference, case_type, pseudonym, citizenship


class CaseLines:
    """Writes batches of ``case_export_query`` rows as CSV text, opening the sealed cells on
    the way. Written for speed, as it runs once per exported case:
    - the code cells (reference, case type, pseudonym code, citizenship) are shown to need
      nothing for a whole batch at once and written as they are; in a batch where one is not
      plain every cell goes through ``field``, so nothing here relies on how the codes were
      made;
    - the outcome is one of a few words (the database checks it), dates are YYYY-MM-DD;
    - a region or an email is written once and remembered (there are few of them);
    - the summary, and the name in an identified export, go through ``field`` as they are opened."""

    REMEMBERED = 4096  # regions and emails; past this many the memory starts again

    def __init__(self, opener: Opener, identified: bool) -> None:
        self.opener, self.identified = opener, identified
        self.written: dict = {}

    def __call__(self, batch: list[tuple]) -> str:
        codes_plain = plain(chain.from_iterable(map(_CODES, batch)))
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
            text = field(text_of(wrapped, pseudonym, summary, f"cases.summary.{reference}"))
            shown = (
                text_of(wrapped, pseudonym, full_name, f"clients.full_name.{pseudonym}")
                if identified
                else pseudonym
            )
            if not codes_plain:  # every cell as the general writer has it
                cells = (reference, case_type, opened_on, region, shown, citizenship, email)
                cells += (outcome, closed_on, next_deadline)
                lines.append(",".join(map(field, cells)) + "," + text)
                continue
            if identified:
                shown = field(shown)
            if (where := written.get(region)) is None:
                where = written[region] = field(region)
            if (who := written.get(email)) is None:
                who = written[email] = field(email)
            lines.append(
                f"{reference},{case_type},{opened_on},{where},{shown},{citizenship},{who},"
                f"{outcome or ''},{closed_on or ''},{next_deadline or ''},{text}"
            )
        lines.append("")  # the last line ends with a line break too
        return "\r\n".join(lines)


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
