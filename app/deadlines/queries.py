"""Reads for the deadlines page, the calendar feed and the workload table."""

from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa

from app.audit.queries import unchanged_since_last_view
from app.auth.models import User
from app.cases.models import Case, TimelineEntry
from app.cases.queries import active_rules, own_cases_clause, visible_cases_clause, work_calendars
from app.cases.terms import Explanation, explain
from app.clients.models import Client
from app.crypto import Opener, seal_context
from app.deadlines.models import SOON, CalendarDay, Deadline, DeadlineRule
from app.extensions import db

LATER = 30  # days: the deadlines page lists what is due "within 30 days"


@dataclass(frozen=True)
class Due:
    due_on: date
    kind: str  # "deadline" or "hearing"
    title: str
    reference: str
    case_type: str
    assignee: str | None
    item_id: int
    hearing_time: time | None = None  # a hearing's, local (HUQUQ_TIMEZONE), when known


def _items(where, today: date, until: date) -> list[Due]:
    """Open deadlines due by ``until`` and hearings from ``today`` to ``until``, of open cases
    only: a closed case's hearings will not be held, and its deadlines left open are no longer
    anyone's work (they stay on the case page, and come back if it is reopened). Deadline
    titles are sealed with their client's key: each is opened here (an erased client's
    deadline shows its rule's name). Soonest first, a day's hearings by their time."""
    assignee = sa.orm.aliased(User)
    deadlines = (
        sa.select(
            Deadline.due_on,
            sa.literal("deadline").label("kind"),
            Deadline._title,
            Case.reference,
            Case.case_type,
            assignee.email,
            Deadline.id,
            Client.data_key,
            Client.pseudonym,
            DeadlineRule.name,
            sa.cast(sa.null(), TimelineEntry.hearing_time.type).label("hearing_time"),
        )
        .join(Case, Case.id == Deadline.case_id)
        .join(Client, Client.id == Case.client_id)
        .outerjoin(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .outerjoin(assignee, assignee.id == Case.assigned_to_id)
        .where(Deadline.is_open, Deadline.due_on <= until, Case.is_open, where)
    )
    hearings = (
        sa.select(
            TimelineEntry.occurred_on,
            sa.literal("hearing").label("kind"),
            sa.null(),  # a hearing's note is sealed and may name people: not listed
            Case.reference,
            Case.case_type,
            assignee.email,
            TimelineEntry.id,
            sa.null(),
            sa.null(),
            sa.null(),
            TimelineEntry.hearing_time,
        )
        .join(Case, Case.id == TimelineEntry.case_id)
        .outerjoin(assignee, assignee.id == Case.assigned_to_id)
        .where(
            TimelineEntry.kind == "hearing",
            TimelineEntry.occurred_on.between(today, until),
            Case.is_open,
            where,
        )
    )
    rows = db.session.execute(
        sa.union_all(deadlines, hearings).order_by("due_on", "hearing_time", "reference")
    ).all()
    opener = Opener()
    items = []
    for due_on, kind, sealed, reference, case_type, email, item_id, key, code, rule, at in rows:
        title = opener.text(key, code, sealed, seal_context("deadlines", "title", reference))
        title = title or rule or ""
        items.append(Due(due_on, kind, title, reference, case_type, email, item_id, at))
    return items


def due_items(user: User, today: date, days: int = LATER) -> list[Due]:
    """Open deadlines due by ``today + days`` (overdue ones included) and hearings from today,
    on the cases ``user`` may see, soonest first."""
    return _items(visible_cases_clause(user), today, today + timedelta(days=days))


def feed_items(user: User, today: date) -> list[Due]:
    """For a user's calendar: deadlines and hearings of their own open cases, a year ahead."""
    return _items(own_cases_clause(user), today, today + timedelta(days=366))


@unchanged_since_last_view
def workload(today: date) -> tuple[tuple[str | None, int, int, int], ...]:
    """Per assignee (None: nobody yet): (email, open cases, open deadlines due within 7 days,
    overdue deadlines), busiest first. Deadlines of open cases only, as on the deadlines page.
    Two GROUP BY queries, whatever the number of people."""
    soon = today + timedelta(days=SOON)
    table: dict[int | None, list[int]] = {}
    open_cases = (
        sa.select(Case.assigned_to_id, sa.func.count())
        .where(Case.is_open)
        .group_by(Case.assigned_to_id)
    )
    for user_id, n in db.session.execute(open_cases):
        table.setdefault(user_id, [0, 0, 0])[0] = n
    terms = (
        sa.select(
            Case.assigned_to_id,
            sa.func.count().filter(Deadline.due_on.between(today, soon)),
            sa.func.count().filter(Deadline.due_on < today),
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(Deadline.is_open, Case.is_open)
        .group_by(Case.assigned_to_id)
    )
    for user_id, this_week, overdue in db.session.execute(terms):
        table.setdefault(user_id, [0, 0, 0])[1:] = [this_week, overdue]
    emails = dict(
        db.session.execute(
            sa.select(User.id, User.email).where(User.id.in_([k for k in table if k is not None]))
        ).all()
    )
    rows = [(emails.get(k) if k is not None else None, *v) for k, v in table.items()]
    return tuple(sorted(rows, key=lambda r: (-r[3], -r[2], -r[1], r[0] or "")))


CALC_HEADERS = ("event_on", "case_type", "rule", "term", "due_on", "basis")


def calc_rows(days: list[date]) -> tuple[list[tuple], list[int]]:
    """SPEC's `deadlines calc`: for each event day, one row per rule in force on it (event_on,
    case_type, rule, term, due_on, basis), by the federal calendar; and the years of due days
    whose calendar is not known yet."""
    rules = active_rules()
    work = work_calendars().federal
    rows, unknown = [], set()
    for day in days:
        for rule in rules:
            if not rule.applies_on(day):
                continue
            why = explain(day, rule.length, rule.unit, work)
            unknown.update(why.unknown_years)
            rows.append(
                (day, rule.case_type, rule.name, rule.term_code, why.due_on, rule.legal_basis)
            )
    return rows, sorted(unknown)


@dataclass(frozen=True)
class Calculated:
    name: str  # the rule's name, or "" for a term typed in
    legal_basis: str
    explanation: Explanation
    applies: bool  # the rule counted events on that day (a typed term always does)


def calculate(
    on: date,
    rule_id: int | None,
    length: int | None,
    unit: str | None,
    region: str | None,
) -> list[Calculated]:
    """The calculator: a typed term (``length`` ``unit``), or the chosen rule (and, when it did
    not apply on ``on``, the rules of its kind that did), or every rule in force on ``on``; on
    the calendar of ``region`` (a code of app.cases.regions; None: federal)."""
    work = work_calendars().for_code(region)
    if length and unit:
        return [Calculated("", "", explain(on, length, unit, work), True)]
    rules = active_rules()
    chosen = [r for r in rules if r.id == rule_id]
    if chosen and not chosen[0].applies_on(on):
        rule = chosen[0]
        chosen += [
            r
            for r in rules
            if r.case_type == rule.case_type and r.trigger == rule.trigger and r.applies_on(on)
        ]
    elif not chosen:
        chosen = [r for r in rules if r.applies_on(on)]
    return [
        Calculated(r.name, r.legal_basis, explain(on, r.length, r.unit, work), r.applies_on(on))
        for r in chosen
    ]


def all_rules() -> list[DeadlineRule]:
    return list(db.session.execute(sa.select(DeadlineRule).order_by(DeadlineRule.id)).scalars())


def calendar_days(year: int) -> list[CalendarDay]:
    """The holidays and moved working days of a year."""
    query = (
        sa.select(CalendarDay)
        .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarDay.day)
    )
    return list(db.session.execute(query).scalars())


def user_by_calendar_token(token_hash: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.calendar_token_hash == token_hash, User.is_enabled)
    ).scalar_one_or_none()
