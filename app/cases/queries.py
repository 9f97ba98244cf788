"""Reads of cases."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort

from app.auth.models import User
from app.cases.models import Case
from app.cases.terms import Explanation, WorkCalendar, explain
from app.cases.workdays import Calendars
from app.dates import is_case_date
from app.deadlines.models import CalendarDay, DeadlineRule, trigger_date
from app.extensions import db
from app.identifiers import normalise_code
from app.models_base import MAX_ID


def own_cases_clause(user: User):
    """A user's own cases: assigned to them, or created by them and not assigned to anyone."""
    return sa.or_(
        Case.assigned_to_id == user.id,
        sa.and_(Case.assigned_to_id.is_(None), Case.created_by_id == user.id),
    )


def visible_cases_clause(user: User):
    """SPEC's rule: staff (coordinators and admins) see every case; a volunteer sees their own."""
    return sa.true() if user.is_coordinator else own_cases_clause(user)


def load_case_or_404(reference: str, user: User) -> Case:
    """The case with this reference if ``user`` may see it; otherwise 404, so nobody can tell a
    case hidden from them from one that does not exist."""
    # As typed (imported references keep their letters), or with look-alikes forgiven.
    candidates = {reference.strip().upper(), normalise_code(reference)}
    case = db.session.execute(
        sa.select(Case).where(Case.reference.in_(candidates), visible_cases_clause(user))
    ).scalar_one_or_none()
    if case is None:
        abort(404)
    return case


def cases_of_client(client_id: int, user: User) -> list[Case]:
    """The client's cases that ``user`` may see, newest first."""
    query = (
        sa.select(Case)
        .where(Case.client_id == client_id, visible_cases_clause(user))
        .order_by(Case.opened_on.desc(), Case.id.desc())
    )
    return list(db.session.execute(query).scalars())


def clients_of_visible_cases(user: User):
    """The ids of the clients of the cases ``user`` may see (a subquery)."""
    return sa.select(Case.client_id).where(visible_cases_clause(user))


def has_cases(client_id):
    """A clause: the client whose id is ``client_id`` (a column) has a case at all."""
    return sa.exists().where(Case.client_id == client_id)


def case_conditions(filters: dict, user: User | None) -> list:
    """WHERE clauses for the cases ``user`` may see that match the case list's filters:
    case_type, status ("open"/"closed"), outcome, region, assigned (a user id, "me" or "none"),
    opened_from and opened_to (both days included). The list and the CSV export share them.
    ``user`` None is the command line, run by whoever runs the server: it sees every case."""
    conditions = [visible_cases_clause(user)] if user is not None else []
    if case_type := filters.get("case_type"):
        conditions.append(Case.case_type == case_type)
    if (status := filters.get("status")) == "open":
        conditions.append(Case.is_open)
    elif status == "closed":
        conditions.append(~Case.is_open)
    if outcome := filters.get("outcome"):
        conditions.append(Case.outcome == outcome)
    if region := filters.get("region"):
        conditions.append(Case.region == region)
    if assigned := filters.get("assigned"):
        if assigned == "none":
            conditions.append(Case.assigned_to_id.is_(None))
        else:
            conditions.append(
                Case.assigned_to_id == (user.id if assigned == "me" else int(assigned))
            )
    if opened_from := filters.get("opened_from"):
        conditions.append(Case.opened_on >= opened_from)
    if opened_to := filters.get("opened_to"):
        conditions.append(Case.opened_on <= opened_to)
    return conditions


def filtered_cases(filters: dict, user: User) -> sa.Select:
    """The cases of ``case_conditions``, newest first."""
    query = sa.select(Case).where(*case_conditions(filters, user))
    return query.order_by(Case.opened_on.desc(), Case.id.desc())


@dataclass
class CasePage:
    items: list[Case]
    total: int
    newer: str | None  # the cursor for the page before (newer cases), if any
    older: str | None  # the cursor for the page after (older cases), if any


def cursor_of(case: Case) -> str:
    return f"{case.opened_on.isoformat()}.{case.id}"


class BrokenCursor(ValueError):
    """A position in the list that no case can have: a link cut short or edited by hand."""


def parse_cursor(text: str | None) -> tuple[date, int] | None:
    """A position in the list ("2025-03-01.1234"); None when absent. ``BrokenCursor`` when it
    is not a case date and an id a case can have."""
    if not text:
        return None
    day, _, case_id = text.partition(".")
    try:
        position = date.fromisoformat(day), int(case_id)
    except ValueError:
        raise BrokenCursor(text) from None
    if not is_case_date(position[0]) or not 1 <= position[1] <= MAX_ID:
        raise BrokenCursor(text)
    return position


def keyset_query(
    conditions: list, position: tuple[date, int] | None, newer_first: bool, limit: int
) -> sa.Select:
    """Cases matching ``conditions`` past ``position`` in the list's order (newest first), or
    before it when not ``newer_first``. The row-value comparison lets the database seek straight
    to the position in the (opened_on, id) index instead of walking to it."""
    query = sa.select(Case).where(*conditions)
    key = sa.tuple_(Case.opened_on, Case.id)
    if position is not None:
        query = query.where(key < position if newer_first else key > position)
    order = (Case.opened_on.desc(), Case.id.desc()) if newer_first else (Case.opened_on, Case.id)
    return query.order_by(*order).limit(limit)


def case_page(
    filters: dict, user: User, per_page: int, after: str | None = None, before: str | None = None
) -> CasePage:
    """One page of ``filtered_cases`` by keyset (newest first): cases older than the ``after``
    cursor, or newer than the ``before`` cursor. Reading page 10,000 costs what page 1 does
    (an index seek on (opened_on, id)), unlike OFFSET. The client and assignee come in the
    same query. ``BrokenCursor`` when a cursor is not one a case can have."""
    position, newer_first = parse_cursor(after), True
    if position is None and (position := parse_cursor(before)) is not None:
        newer_first = False
    conditions = case_conditions(filters, user)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(*conditions)
    ).scalar()
    query = keyset_query(conditions, position, newer_first, per_page + 1).options(
        sa.orm.joinedload(Case.client), sa.orm.joinedload(Case.assigned_to)
    )
    rows = list(db.session.execute(query).scalars())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not newer_first:
        rows.reverse()
    at_start = position is None or (not newer_first and not more)
    at_end = newer_first and not more
    return CasePage(
        items=rows,
        total=total,
        newer=None if at_start or not rows else cursor_of(rows[0]),
        older=None if (at_end or not rows) else cursor_of(rows[-1]),
    )


def regions_in_use() -> list[str]:
    """The regions cases already name, for suggestions as a volunteer types."""
    query = sa.select(Case.region).distinct().order_by(Case.region).limit(500)
    return list(db.session.execute(query).scalars())


def active_rules(case_type: str | None = None) -> list[DeadlineRule]:
    """The deadline rules in force, of this case type (None: all), whatever dates they apply
    to; ``DeadlineRule.applies_on`` picks the one for an event's date."""
    query = sa.select(DeadlineRule).where(DeadlineRule.is_active)
    if case_type is not None:
        query = query.where(DeadlineRule.case_type == case_type)
    return list(db.session.execute(query.order_by(DeadlineRule.id)).scalars())


def rules_on(day: date, case_type: str | None = None) -> list[DeadlineRule]:
    """The rules that count an event on ``day``: in force, and valid from on or before it and
    to on or after it."""
    return [rule for rule in active_rules(case_type) if rule.applies_on(day)]


def work_calendars() -> Calendars:
    """Russia's working calendar (the ``holidays`` library's) with the admin's corrections:
    federal ones for everyone, a region's for that region's cases."""
    rows = db.session.execute(
        sa.select(CalendarDay.day, CalendarDay.is_working, CalendarDay.region)
    ).all()
    return Calendars(rows)


def work_calendar(region: str | None = None) -> WorkCalendar:
    """The calendar for a case whose region is typed as ``region`` (None: federal)."""
    return work_calendars().for_region(region)


def case_explanations(case: Case) -> dict[int, Explanation]:
    """Why each of the case's rule deadlines ends when it does (one a court extended, or whose
    date is gone, has none): by the rule it came from, from the case's date, on its region's
    calendar."""
    work = work_calendars().for_region(case.region)
    explained = {}
    for deadline in case.deadlines:
        rule = deadline.rule
        if rule is None or deadline.is_extended:
            continue
        start = trigger_date(case, rule.trigger)
        if start is None:
            continue
        why = explain(start, rule.length, rule.unit, work)
        if why.due_on == deadline.due_on:
            explained[deadline.id] = why
    return explained
