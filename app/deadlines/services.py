"""Writes for deadline rules, the working-day calendar and calendar links. Each takes the acting
user and is audited; the caller commits."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app import dates
from app.audit.services import acting
from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import work_calendars
from app.cases.regions import REGIONS
from app.cases.services import sync_rule_deadlines
from app.cases.workdays import CALENDAR_SOURCE
from app.deadlines.models import CalendarDay, Deadline, DeadlineRule
from app.errors import RuleViolation
from app.extensions import db
from app.security.services import settings

RULE_FIELDS = (
    "name",
    "case_type",
    "trigger",
    "length",
    "unit",
    "legal_basis",
    "is_active",
    "valid_from",
    "valid_to",
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def renew_calendar_link(user: User, by: User) -> str:
    """A new secret for the user's calendar feed; the old link stops working. Returns the
    token, which is shown once and kept only as a hash."""
    acting(by)
    token = secrets.token_urlsafe(24)
    user.calendar_token_hash = token_hash(token)
    db.session.flush()
    return token


def _recompute_from(today: date, by: User | None) -> None:
    """After a rule or the calendar changes, the open rule deadlines still ahead follow it."""
    case_ids = db.session.execute(
        sa.select(Deadline.case_id)
        .distinct()
        .where(Deadline.is_open, Deadline.rule_id.isnot(None), Deadline.due_on >= today)
    ).scalars()
    calendars = work_calendars()
    for case_id in case_ids:
        sync_rule_deadlines(db.session.get(Case, case_id), by, calendars)


def recount_deadlines(today: date, by: User | None) -> None:
    """Count the open rule deadlines still ahead again (after the calendar library was
    upgraded, or this version replaced the hand-kept calendar)."""
    acting(by)
    _recompute_from(today, by)
    settings().calendar_counted = CALENDAR_SOURCE


def recount_when_the_calendar_changed(now: datetime) -> int:
    """Housekeeping: when the open deadlines were counted with another calendar library than
    the one installed (an upgrade brought next year's decree, or the database comes from a
    version that kept its own calendar), count them again, once. 1 if it did, else 0. The
    caller commits."""
    if settings().calendar_counted == CALENDAR_SOURCE:
        return 0
    recount_deadlines(now.astimezone(dates.timezone()).date(), by=None)
    return 1


def save_rule(rule: DeadlineRule | None, data: Mapping, by: User) -> DeadlineRule:
    acting(by)
    if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
        raise RuleViolation(_("A rule cannot end before it starts."), field="valid_to")
    rule = rule or DeadlineRule()
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    db.session.add(rule)
    db.session.flush()
    _recompute_from(dates.today(), by)
    return rule


def add_calendar_day(
    day: date, is_working: bool, note: str | None, by: User, region: str | None = None
) -> CalendarDay:
    """A correction to the library's calendar: a day off or a working day it does not know,
    federal or (``region``, a code of app.cases.regions) for that region's cases only."""
    acting(by)
    if region is not None and region not in REGIONS:
        raise RuleViolation(_("Unknown region."), field="region")
    if db.session.execute(
        sa.select(CalendarDay.id).where(
            CalendarDay.day == day,
            CalendarDay.region.is_(None) if region is None else CalendarDay.region == region,
        )
    ).first():
        raise RuleViolation(_("This day is in the calendar already."), field="day")
    # A region's days go on top of the federal calendar; a federal one on top of the library's.
    base = work_calendars().federal
    if base.is_working(day) == is_working:
        raise RuleViolation(
            _("The working calendar has this day as a working day already.")
            if is_working
            else _("The working calendar has this day as a day off already."),
            field="kind",
        )
    entry = CalendarDay(day=day, is_working=is_working, note=note, region=region)
    db.session.add(entry)
    db.session.flush()
    _recompute_from(dates.today(), by)
    return entry


def remove_calendar_day(entry: CalendarDay, by: User) -> None:
    acting(by)
    db.session.delete(entry)
    db.session.flush()
    _recompute_from(dates.today(), by)
