"""Reads of cases."""

import sqlalchemy as sa

from app.access import visible_cases_clause
from app.auth.models import User
from app.cases.models import Case
from app.extensions import db


def filtered_cases(filters: dict, user: User) -> sa.Select:
    """Cases ``user`` may see that match the list's filters, newest first.

    Filters: case_type, status ("open"/"closed"), outcome, region,
    assigned (a user id, "me" or "none"), opened_from and opened_to (both days included).
    """
    query = sa.select(Case).where(visible_cases_clause(user))
    if case_type := filters.get("case_type"):
        query = query.where(Case.case_type == case_type)
    if (status := filters.get("status")) == "open":
        query = query.where(Case.is_open)
    elif status == "closed":
        query = query.where(~Case.is_open)
    if outcome := filters.get("outcome"):
        query = query.where(Case.outcome == outcome)
    if region := filters.get("region"):
        query = query.where(Case.region == region)
    if assigned := filters.get("assigned"):
        if assigned == "none":
            query = query.where(Case.assigned_to_id.is_(None))
        else:
            query = query.where(
                Case.assigned_to_id == (user.id if assigned == "me" else int(assigned))
            )
    if opened_from := filters.get("opened_from"):
        query = query.where(Case.opened_on >= opened_from)
    if opened_to := filters.get("opened_to"):
        query = query.where(Case.opened_on <= opened_to)
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
