"""Writes for deadline rules, the working-day calendar and calendar links. Each takes the acting
user and is audited; the caller commits."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app import dates
from app.audit.services import acting
from app.auth.models import User
from app.cases.models import CalendarDay, Case, Deadline, DeadlineRule
from app.cases.services import sync_rule_deadlines
from app.errors import RuleViolation
from app.extensions import db

RULE_FIELDS = ("name", "case_type", "trigger", "length", "unit", "legal_basis", "is_active")


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
    for case_id in case_ids:
        sync_rule_deadlines(db.session.get(Case, case_id), by)


def save_rule(rule: DeadlineRule | None, data: Mapping, by: User) -> DeadlineRule:
    acting(by)
    rule = rule or DeadlineRule()
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    db.session.add(rule)
    db.session.flush()
    _recompute_from(dates.today(), by)
    return rule


def add_calendar_day(day: date, is_working: bool, note: str | None, by: User) -> CalendarDay:
    acting(by)
    if is_working == (day.weekday() < 5):
        raise RuleViolation(
            _("A holiday falls on a weekday; a moved working day on a weekend."), field="kind"
        )
    if db.session.execute(sa.select(CalendarDay.id).where(CalendarDay.day == day)).first():
        raise RuleViolation(_("This day is in the calendar already."), field="day")
    entry = CalendarDay(day=day, is_working=is_working, note=note)
    db.session.add(entry)
    db.session.flush()
    _recompute_from(dates.today(), by)
    return entry


def remove_calendar_day(entry: CalendarDay, by: User) -> None:
    acting(by)
    db.session.delete(entry)
    db.session.flush()
    _recompute_from(dates.today(), by)
