"""The case list, its filters, the export and the deadlines page keep using their indexes, on
SQLite and PostgreSQL."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.cases.models import TimelineEntry
from app.cases.queries import case_conditions, keyset_query
from app.deadlines.models import Deadline
from app.exports.queries import case_export_query
from app.extensions import db

COORDINATOR = User(id=1, email="c@example.org", role="coordinator")
VOLUNTEER = User(id=2, email="v@example.org", role="volunteer")
OPEN_BY_CASE = "ix_deadlines_status_case_id_due_on"


def _list(filters: dict, user=COORDINATOR, after=(date(2025, 6, 1), 500)):
    """The case list's query for a page deep in the list."""
    return keyset_query(case_conditions(filters, user), after, True, 26)


QUERIES = {
    "list, newest first": (_list({}), "ix_cases_opened_on_id"),
    "list by case type": (
        _list({"case_type": "school_refusal"}),
        "ix_cases_case_type_opened_on_id",
    ),
    "list by assignee": (_list({"assigned": "7"}), "ix_cases_assigned_to_id_opened_on_id"),
    "list by region": (_list({"region": "Москва"}), "ix_cases_region_opened_on_id"),
    # In the order the cases were entered: the table itself, front to back (SQLite's rowid);
    # the next deadlines from the index of open deadlines by case.
    "export, in entry order": (
        case_export_query({}, None),
        {
            "sqlite": ("SCAN cases", f"USING COVERING INDEX {OPEN_BY_CASE} (status=?)"),
            "postgresql": ("pk_cases", OPEN_BY_CASE),
        },
    ),
    # A part of a long export: its cases by id range, their open deadlines and clients by index
    # (made in the test: its shape depends on the database).
    "export, a part": (
        lambda: case_export_query({}, None, part=True).params(first=1000, last=1999),
        {
            "sqlite": (
                f"SEARCH deadlines USING COVERING INDEX {OPEN_BY_CASE} "
                "(status=? AND case_id>? AND case_id<?)"
            ),
            "postgresql": ("Index Scan using pk_clients", OPEN_BY_CASE),
        },
    ),
    # Soonest first, as the deadlines page lists them (on a tiny table the index of open
    # deadlines by case would serve the filter as cheaply, but not the order).
    "deadlines due": (
        sa.select(Deadline.id)
        .where(Deadline.is_open, Deadline.due_on <= date(2026, 1, 1))
        .order_by(Deadline.due_on),
        "ix_deadlines_status_due_on",
    ),
    "hearings ahead": (
        sa.select(TimelineEntry.id).where(
            TimelineEntry.kind == "hearing",
            TimelineEntry.occurred_on.between(date(2025, 1, 1), date(2025, 2, 1)),
        ),
        "ix_timeline_entries_kind_occurred_on",
    ),
}


def _plan(query) -> str:
    connection = db.session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(row[-1] for row in rows)
    # Tiny test tables would be scanned anyway: forbid what bypasses an index, so the plan
    # shows whether the index can serve the query (a dropped index or an unindexable filter
    # would still fail).
    # Nor a hash aggregate: on a tiny table it may group the open deadlines read from either
    # index on (status, …); grouped in order, only the one by case serves, as at scale.
    for setting in ("seqscan", "bitmapscan", "sort", "hashjoin", "mergejoin", "hashagg"):
        connection.exec_driver_sql(f"SET LOCAL enable_{setting} = off")
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}").all())


@pytest.mark.parametrize("name", QUERIES)
def test_queries_use_their_indexes(ctx, name):
    query, index = QUERIES[name]
    plan = _plan(query() if callable(query) else query)
    if isinstance(index, dict):
        index = index[db.session.get_bind().dialect.name]
    for wanted in (index,) if isinstance(index, str) else index:
        assert wanted in plan, f"{name} does not use {wanted}:\n{plan}"
    if name.startswith(("list", "export")):
        assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort" not in plan.split("\n")[0], plan
    if name.startswith("list"):
        # A seek to the page, not a walk from the top of the index past every newer case.
        assert "(opened_on, id) < " in plan or "opened_on<?" in plan.replace(" ", ""), plan
