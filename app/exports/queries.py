"""What the exports contain, as (headers, rows)."""

from collections.abc import Iterator

import sqlalchemy as sa

from app.auth.models import User
from app.cases.models import Case, Deadline
from app.cases.queries import case_conditions
from app.clients.models import Client
from app.crypto import client_key, unseal
from app.extensions import db
from app.reports.metrics import Summary
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


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


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


def case_export_query(filters: dict, user: User | None) -> sa.Select:
    """The case columns for the cases ``user`` may see that match the list's filters, oldest
    first, with what is needed to open the sealed ones (see ``sealed_row``); next_deadline is
    the earliest open deadline."""
    next_deadline = (
        sa.select(Deadline.case_id, sa.func.min(Deadline.due_on).label("due_on"))
        .where(Deadline.is_open)
        .group_by(Deadline.case_id)
        .subquery()
    )
    return (
        sa.select(
            Case.reference,
            Case.case_type,
            Case.opened_on,
            Case.region,
            Client.pseudonym,
            Client.citizenship,
            User.email,
            Case.outcome,
            Case.closed_on,
            next_deadline.c.due_on,
            Case._summary,
            Client.data_key,
            Client._full_name,
        )
        .select_from(Case)
        .join(Client, Client.id == Case.client_id)
        .outerjoin(User, User.id == Case.assigned_to_id)
        .outerjoin(next_deadline, next_deadline.c.case_id == Case.id)
        .where(*case_conditions(filters, user))
        .order_by(Case.opened_on, Case.id)
    )


def sealed_row(row, identified: bool) -> tuple:
    """One CSV row: the summary opened, and the client's name in place of the pseudonym code
    when ``identified``."""
    *values, summary, wrapped, full_name = row
    key = client_key(wrapped, row.pseudonym)
    reference = values[0]
    if identified:
        values[4] = unseal(key, full_name, f"clients.full_name.{row.pseudonym}") if key else None
    values.append(unseal(key, summary, f"cases.summary.{reference}") if key else None)
    return tuple(values)


def case_rows(query: sa.Select, batch: int = 1000) -> Iterator[tuple]:
    """The rows as the database hands them over, a batch at a time: memory stays flat.
    PostgreSQL plans a cursor for its first tenth by default (nested loops, costly per fetch);
    every row will be read, so it is told to plan for all of them."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = db.session.execute(query.execution_options(yield_per=batch, stream_results=True))
    yield from result
