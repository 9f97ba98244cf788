"""The report query, checked against a recount in plain Python of SPEC's rules, on random data
(hypothesis) and on both databases; and the dashboard's cost in SQL statements."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.queries import forget_figures
from app.cases.models import CASE_TYPES, OUTCOMES, Case
from app.cases.services import close_case
from app.extensions import db
from app.reports.metrics import Counts
from app.reports.queries import Filters, Period, outcome_counts, report_rows
from tests.helpers import login

DAY0 = date(2024, 1, 1)
STAMP = datetime(2024, 1, 1, tzinfo=UTC)
REGIONS = ("Москва", "Казань", "Тюмень")

case_rows = st.lists(
    st.fixed_dictionaries(
        {
            "case_type": st.sampled_from(list(CASE_TYPES)),
            "region": st.sampled_from(REGIONS),
            "client": st.integers(0, 1),
            "assignee": st.integers(0, 2),
            # A narrow calendar, so cases often open or close on a period's first or last day.
            "opened": st.integers(0, 60),
            "outcome": st.one_of(st.none(), st.sampled_from(list(OUTCOMES))),
            "days": st.integers(0, 30),
        }
    ),
    max_size=40,
)
periods = st.tuples(
    st.one_of(st.none(), st.integers(0, 90)), st.one_of(st.none(), st.integers(0, 90))
).map(lambda p: Period(*(DAY0 + timedelta(days=d) if d is not None else None for d in p)))
filter_choices = st.fixed_dictionaries(
    {
        "region": st.one_of(st.none(), st.sampled_from(REGIONS)),
        "citizenship": st.one_of(st.none(), st.sampled_from(["UZ", "TJ"])),
        "case_type": st.one_of(st.none(), st.sampled_from(list(CASE_TYPES))),
        "assignee": st.one_of(st.none(), st.integers(0, 2)),
    }
)


def recount(rows: list[dict], period: Period, keep) -> dict[str, Counts]:
    """SPEC's period rules, written out again in Python as the oracle."""
    start, end = period.start or date.min, period.end or date.max
    totals: dict[str, dict] = {}
    for r in filter(keep, rows):
        c = totals.setdefault(r["case_type"], dict.fromkeys(Counts.__dataclass_fields__, 0))
        c["opened"] += start <= r["opened_on"] <= end
        if period.end is None:
            c["open"] += r["closed_on"] is None
        else:
            c["open"] += r["opened_on"] <= end and (r["closed_on"] is None or r["closed_on"] > end)
        if r["closed_on"] is not None and start <= r["closed_on"] <= end:
            c[r["outcome"]] += 1
            c["decided"] += r["outcome"] in ("success", "partial", "failure")
            c["successful"] += r["outcome"] in ("success", "partial")
    return {k: Counts(**v) for k, v in totals.items() if any(v.values())}


@pytest.fixture
def people(make):
    users = [make.user("volunteer"), make.user("volunteer")]
    clients = [make.client(citizenship="UZ"), make.client(citizenship="TJ")]
    return users, clients


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=case_rows, period=periods, chosen=filter_choices)
def test_the_query_agrees_with_a_recount_in_python(ctx, people, drawn, period, chosen):
    users, clients = people
    assignees = [None, users[0].id, users[1].id]
    rows = []
    for i, d in enumerate(drawn):
        opened_on = DAY0 + timedelta(days=d["opened"])
        closed = d["outcome"] is not None
        rows.append(
            {
                "reference": f"HQ-TEST-{i:04d}",
                "client_id": clients[d["client"]].id,
                "case_type": d["case_type"],
                "region": d["region"],
                "opened_on": opened_on,
                "assigned_to_id": assignees[d["assignee"]],
                "outcome": d["outcome"],
                "closed_on": opened_on + timedelta(days=d["days"]) if closed else None,
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        )
    citizenship = {clients[0].id: "UZ", clients[1].id: "TJ"}
    filters = Filters(
        region=chosen["region"],
        citizenship=chosen["citizenship"],
        case_type=chosen["case_type"],
        assigned_to=assignees[chosen["assignee"]] if chosen["assignee"] else None,
    )

    def keep(r):
        return (
            (filters.region is None or r["region"] == filters.region)
            and (filters.citizenship is None or citizenship[r["client_id"]] == filters.citizenship)
            and (filters.case_type is None or r["case_type"] == filters.case_type)
            and (filters.assigned_to is None or r["assigned_to_id"] == filters.assigned_to)
        )

    nested = db.session.begin_nested()
    try:
        if rows:
            db.session.execute(sa.insert(Case.__table__), rows)
        # These rows go in behind the audit trail, and go again with the savepoint: figures
        # remembered from another example must not be served for them.
        forget_figures()
        # A group whose cases all fall outside the period counts zeros; the recount omits it.
        counted = {k: c for k, c in outcome_counts(period, filters).items() if c != Counts()}
        assert counted == recount(rows, period, keep)
    finally:
        nested.rollback()


def test_report_rows_list_every_case_type_then_all(ctx, make):
    make.case(case_type="school_refusal", outcome="success", closed_on=date(2025, 5, 1))
    rows, benchmarks = report_rows(Period(), Filters())
    assert [r.key for r in rows] == [*CASE_TYPES, "all"]
    assert rows[-1].counts.decided == 1 and rows[-1].comparison == "no benchmark"
    assert set(benchmarks) == {"deportation_challenge", "school_refusal"}
    assert rows[0].benchmark_low == 0.9 and rows[1].benchmark_high == 0.4


def _statements_for(app, client, path) -> list[str]:
    """The SQL statements a page view runs."""
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return seen


def _group_bys_for(app, client, path) -> int:
    return sum("GROUP BY" in statement for statement in _statements_for(app, client, path))


def test_the_dashboard_costs_a_fixed_number_of_statements(app, client, make):
    """However many cases, regions and volunteers: no query per row."""
    coordinator = make.user("coordinator")
    login(client, coordinator)
    make.case(by=coordinator)
    few = len(_statements_for(app, client, "/dashboard"))
    for i in range(12):
        volunteer = make.user("volunteer")
        make.case(
            by=coordinator,
            region=f"Регион {i}",
            assigned_to_id=volunteer.id,
            outcome="success",
            closed_on=date(2025, 6, 1),
        )
    many = len(_statements_for(app, client, "/dashboard"))
    assert many == few
    assert many <= 20


def test_an_unchanged_dashboard_is_served_without_recounting(app, client, make):
    coordinator = make.user("coordinator")
    volunteer = make.user("volunteer")
    login(client, coordinator)
    case = make.case(by=coordinator)
    make.case(by=coordinator, assigned_to_id=volunteer.id)
    first = _group_bys_for(app, client, "/dashboard")
    again = _group_bys_for(app, client, "/dashboard")
    assert first >= 5 and again == 0

    with app.app_context():
        close_case(db.session.get(Case, case.id), "success", date(2025, 6, 1), by=coordinator)
        db.session.commit()
        assert _group_bys_for(app, client, "/dashboard") == first  # counted afresh
        assert report_rows(Period(), Filters())[0][-1].counts.decided == 1
        # The same figures asked for by another viewer are that viewer's own.
        mine = report_rows(Period(), Filters(visible_to=volunteer))[0][-1].counts
        assert (mine.opened, mine.decided) == (1, 0)
