"""The exports' reads: which cases, and what of each, a cases export holds."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import case_conditions
from app.clients.models import Client
from app.deadlines.models import Deadline, next_open_deadline
from app.extensions import db


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


def case_id_bounds(filters: dict, user: User | None) -> tuple[int | None, int | None]:
    """The first and last id of the cases ``user`` may see that match the list's filters
    (read from the index, not the rows): (None, None) when there are none."""
    bounds = sa.select(sa.func.min(Case.id), sa.func.max(Case.id)).where(
        *case_conditions(filters, user)
    )
    return tuple(db.session.execute(bounds).one())


def cases_to_export(filters: dict, user: User | None) -> sa.Select:
    """The same cases as ``case_export_query``, in the same order, as the models have them:
    each case with its client, the assignee's email and the earliest open deadline's day."""
    return (
        sa.select(Case, Client, User.email, next_open_deadline(Case.id).label("next_deadline"))
        .join(Client, Client.id == Case.client_id)
        .outerjoin(User, User.id == Case.assigned_to_id)
        .where(*case_conditions(filters, user))
        .order_by(Case.id)
    )
