"""The report's numbers: one GROUP BY query that the dashboard, /exports/report.csv and
`flask report` all use, so they can never disagree."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.audit.queries import unchanged_since_last_view
from app.auth.models import User
from app.cases.models import CASE_TYPES, OUTCOMES, Case
from app.cases.queries import visible_cases_clause
from app.clients.models import Client
from app.clients.queries import citizenships_in_use
from app.extensions import db
from app.reports.metrics import Counts, Summary, summarise
from app.reports.models import Benchmark

GROUPINGS = {
    "case_type": Case.case_type,
    "region": Case.region,
    "citizenship": Client.citizenship,
    "assigned_to": Case.assigned_to_id,
}
AGE_BUCKETS = (30, 90, 180, 365)  # days: under 30, 30–89, 90–179, 180–364, a year or more


@dataclass(frozen=True)
class Period:
    """A report period, both ends included; either may be open (None)."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Filters:
    region: str | None = None
    citizenship: str | None = None
    case_type: str | None = None
    assigned_to: int | None = None
    # A volunteer's own summary: only the cases this user may see.
    visible_to: User | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple:
        """What decides the figures, the viewer included (for remembering them)."""
        viewer = self.visible_to
        return (
            self.region,
            self.citizenship,
            self.case_type,
            self.assigned_to,
            (viewer.id, viewer.role) if viewer is not None else None,
        )


def _between(column, period: Period):
    conditions = [column.isnot(None)]
    if period.start:
        conditions.append(column >= period.start)
    if period.end:
        conditions.append(column <= period.end)
    return sa.and_(*conditions)


def _open_at_end(period: Period):
    if period.end is None:
        return Case.is_open
    return sa.and_(Case.opened_on <= period.end, sa.or_(Case.is_open, Case.closed_on > period.end))


def _filtered(query, filters: Filters, joined_clients: bool):
    if filters.citizenship and not joined_clients:
        query = query.join(Client, Client.id == Case.client_id)
    if filters.citizenship:
        query = query.where(Client.citizenship == filters.citizenship)
    if filters.region:
        query = query.where(Case.region == filters.region)
    if filters.case_type:
        query = query.where(Case.case_type == filters.case_type)
    if filters.assigned_to is not None:
        query = query.where(Case.assigned_to_id == filters.assigned_to)
    if filters.visible_to is not None:
        query = query.where(visible_cases_clause(filters.visible_to))
    return query


@unchanged_since_last_view
def outcome_counts(period: Period, filters: Filters, group_by: str = "case_type") -> dict:
    """Counts per group for the period (SPEC): ``opened``, cases opened in it; ``open``, cases
    open at its end (opened on or before it and not closed by then; with no end, open now);
    every outcome figure over the cases closed in it. "Decided" and "successful" are the
    ``Case`` hybrids, so this agrees with any count made in Python."""
    key = GROUPINGS[group_by]
    closed_in = _between(Case.closed_on, period)
    count_if = lambda condition: sa.func.count().filter(condition)  # noqa: E731
    query = sa.select(
        key.label("key"),
        count_if(_between(Case.opened_on, period)).label("opened"),
        count_if(_open_at_end(period)).label("open"),
        count_if(sa.and_(closed_in, Case.is_decided)).label("decided"),
        count_if(sa.and_(closed_in, Case.is_successful)).label("successful"),
        *(count_if(sa.and_(closed_in, Case.outcome == code)).label(code) for code in OUTCOMES),
    ).select_from(Case)
    joined = group_by == "citizenship"
    if joined:
        query = query.join(Client, Client.id == Case.client_id)
    if period.end:  # nothing opened after the period can count in it
        query = query.where(Case.opened_on <= period.end)
    query = _filtered(query, filters, joined).group_by(key)
    return {
        row.key: Counts(**{name: getattr(row, name) for name in Counts.__dataclass_fields__})
        for row in db.session.execute(query)
    }


def benchmarks() -> dict[str, Benchmark]:
    """Every benchmark, by case type."""
    rows = db.session.execute(sa.select(Benchmark)).scalars()
    return {b.case_type: b for b in rows}


def report_rows(period: Period, filters: Filters) -> tuple[list[Summary], dict[str, Benchmark]]:
    """One row per case type (all six, in SPEC's order, zeros included), then the row "all"
    (which has no benchmark)."""
    counts = outcome_counts(period, filters)
    known = benchmarks()
    types = [filters.case_type] if filters.case_type else list(CASE_TYPES)
    rows = [
        summarise(t, counts.get(t, Counts()), known[t].bounds if t in known else None)
        for t in types
    ]
    rows.append(summarise("all", sum((r.counts for r in rows), Counts())))
    return rows, known


def breakdown(period: Period, filters: Filters, group_by: str) -> list[Summary]:
    """Rows by region, citizenship or assignee (no benchmarks), most decided first."""
    counts = outcome_counts(period, filters, group_by)
    rows = [summarise(str(key) if key is not None else "", c) for key, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.counts.decided, -r.counts.opened, r.key))


def _quarter(column):
    year = sa.cast(sa.extract("year", column), sa.Integer)
    month = sa.cast(sa.extract("month", column), sa.Integer)
    return year * 10 + (month + 2) // 3


@unchanged_since_last_view
def quarterly(period: Period, filters: Filters) -> tuple[tuple[str, int, int, int], ...]:
    """Per quarter: (label "2025 Q3", cases opened, decided, successful), oldest first."""
    opened_q = _quarter(Case.opened_on)
    opened = _filtered(
        sa.select(opened_q.label("q"), sa.func.count().label("n"))
        .select_from(Case)
        .where(_between(Case.opened_on, period)),
        filters,
        False,
    ).group_by(opened_q)
    closed_q = _quarter(Case.closed_on)
    closed = _filtered(
        sa.select(
            closed_q.label("q"),
            sa.func.count().filter(Case.is_decided).label("decided"),
            sa.func.count().filter(Case.is_successful).label("successful"),
        )
        .select_from(Case)
        .where(_between(Case.closed_on, period)),
        filters,
        False,
    ).group_by(closed_q)
    table: dict[int, list[int]] = {}
    for q, n in db.session.execute(opened):
        table.setdefault(int(q), [0, 0, 0])[0] = n
    for q, decided, successful in db.session.execute(closed):
        table.setdefault(int(q), [0, 0, 0])[1:] = [decided, successful]
    return tuple((f"{q // 10} Q{q % 10}", *table[q]) for q in sorted(table))


@unchanged_since_last_view
def open_case_ages(period: Period, filters: Filters, today: date) -> tuple[int, ...]:
    """How many cases were open at the period's end (or today), by age: under 30 days, 30–89,
    90–179, 180–364, a year or more."""
    end = period.end or today
    bucket = sa.case(
        *((Case.opened_on > end - timedelta(days=days), i) for i, days in enumerate(AGE_BUCKETS)),
        else_=len(AGE_BUCKETS),
    )
    query = _filtered(
        sa.select(bucket.label("bucket"), sa.func.count())
        .select_from(Case)
        .where(_open_at_end(Period(end=end))),
        filters,
        False,
    ).group_by(bucket)
    ages = [0] * (len(AGE_BUCKETS) + 1)
    for index, n in db.session.execute(query):
        ages[index] = n
    return tuple(ages)


@unchanged_since_last_view
def _citizenships() -> tuple[str, ...]:
    return tuple(citizenships_in_use())


def filter_citizenships() -> list[str]:
    """The citizenship codes clients have, for the report's filter: remembered like the figures
    (every client's row is read to find them, 11 ms at 20,000 cases on SQLite)."""
    return list(_citizenships())
