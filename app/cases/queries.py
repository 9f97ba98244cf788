"""Reads of cases."""

import sqlalchemy as sa

from app.access import visible_cases_clause
from app.auth.models import User
from app.cases.models import CalendarDay, Case, DeadlineRule
from app.cases.terms import WorkCalendar
from app.extensions import db


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


def case_page(filters: dict, user: User, page: int, per_page: int):
    """One page of ``filtered_cases``, with the client and assignee loaded in the same query."""
    query = filtered_cases(filters, user).options(
        sa.orm.joinedload(Case.client), sa.orm.joinedload(Case.assigned_to)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def regions_in_use() -> list[str]:
    """The regions cases already name, for suggestions as a volunteer types."""
    query = sa.select(Case.region).distinct().order_by(Case.region).limit(500)
    return list(db.session.execute(query).scalars())


def active_rules(case_type: str) -> list[DeadlineRule]:
    """The deadline rules in force for this case type."""
    query = (
        sa.select(DeadlineRule)
        .where(DeadlineRule.case_type == case_type, DeadlineRule.is_active)
        .order_by(DeadlineRule.id)
    )
    return list(db.session.execute(query).scalars())


def work_calendar() -> WorkCalendar:
    """The working-day calendar: Monday–Friday, less holidays, plus moved working days."""
    days = db.session.execute(sa.select(CalendarDay.day, CalendarDay.is_working)).all()
    return WorkCalendar(
        holidays=frozenset(d for d, working in days if not working),
        working_weekends=frozenset(d for d, working in days if working),
    )
