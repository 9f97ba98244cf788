"""Writes to cases and their timelines. Each takes the acting user; the caller commits.

The rules of a case's life are checked here, so the web forms, the CSV import and the command
line all keep them: an outcome is one of SPEC's codes and comes with its date, a case closes on
or after the day it opened, a closed case is not closed again, and reopening is recorded.
"""

from collections.abc import Mapping
from datetime import date, time

from flask_babel import gettext as _

from app import dates
from app.audit.services import acting
from app.auth.models import User
from app.cases.models import (
    CASE_TYPES,
    OUTCOMES,
    TYPE_FIELDS,
    Case,
    TimelineEntry,
    other_type_fields,
)
from app.cases.queries import active_rules, work_calendars
from app.cases.terms import term_end
from app.cases.workdays import Calendars
from app.deadlines.models import Deadline, trigger_date
from app.errors import EditConflict, RuleViolation
from app.extensions import db

CASE_FIELDS = (
    "case_type",
    "opened_on",
    "region",
    "authority",
    "summary",
    "assigned_to_id",
    *dict.fromkeys(field for fields in TYPE_FIELDS.values() for field in fields),
)


def may_assign(user: User | None) -> bool:
    """Who may say who a case is assigned to: staff, and the command line (``None``)."""
    return user is None or user.is_coordinator


def _apply(case: Case, data: Mapping, by: User | None) -> None:
    if (
        "assigned_to_id" in data
        and (data["assigned_to_id"] or None) != case.assigned_to_id
        and not may_assign(by)
    ):
        raise RuleViolation(
            _("Only a coordinator or an admin assigns cases."), field="assigned_to_id"
        )
    for field in CASE_FIELDS:
        if field in data:
            setattr(case, field, data[field] if data[field] != "" else None)
    if case.case_type not in CASE_TYPES:
        raise RuleViolation(_("Unknown case type."), field="case_type")
    # A field of another case type would be stale data nobody sees: clear it.
    for field in other_type_fields(case.case_type):
        setattr(case, field, None)
    if case.closed_on is not None and case.opened_on > case.closed_on:
        raise RuleViolation(
            _(
                "The case was closed on %(date)s; it cannot open after that.",
                date=case.closed_on.isoformat(),
            ),
            field="opened_on",
        )


def open_case(client, data: Mapping, by: User | None) -> Case:
    """A new open case for ``client`` (a ``Client``). A volunteer's case starts unassigned; it
    stays visible to them as its creator until a coordinator assigns it."""
    acting(by)
    case = Case(client=client, created_by_id=by.id if by else None)
    if data.get("reference"):  # kept from another system (CSV import); else a random one
        case.reference = data["reference"]
    _apply(case, data, by)
    db.session.add(case)
    db.session.flush()
    sync_rule_deadlines(case, by)
    return case


def update_case(
    case: Case, data: Mapping, by: User | None, seen_version: int | None = None
) -> Case:
    """``seen_version``: the version the person's form showed; if the case changed since,
    EditConflict is raised and nothing is saved. (The database checks it again on write.)"""
    acting(by)
    if seen_version is not None and seen_version != case.version:
        raise EditConflict(case)
    _apply(case, data, by)
    db.session.flush()
    sync_rule_deadlines(case, by)
    return case


def add_timeline_entry(
    case: Case,
    kind: str,
    occurred_on: date,
    body: str | None,
    by: User | None,
    outcome: str | None = None,
    hearing_time: time | None = None,
    court: str | None = None,
    room: str | None = None,
) -> TimelineEntry:
    """``outcome``: for "closed", the outcome recorded; for "reopened", the one it replaced.
    ``hearing_time`` (local, in HUQUQ_TIMEZONE), ``court`` and ``room``: a hearing's; any other
    kind of entry has no time or place, and they are dropped."""
    acting(by)
    if kind != "hearing":
        hearing_time = court = room = None
    entry = TimelineEntry(
        case=case,
        kind=kind,
        occurred_on=occurred_on,
        body=body,
        outcome=outcome,
        hearing_time=hearing_time,
        court=court or None,
        room=room or None,
        created_by_id=by.id if by else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def close_case(
    case: Case, outcome: str, on: date, by: User | None, note: str | None = None
) -> Case:
    """Record the outcome reached on ``on``; the closing goes into the timeline."""
    acting(by)
    if not case.is_open:
        raise RuleViolation(_("This case is already closed."))
    if outcome not in OUTCOMES:
        raise RuleViolation(_("Unknown outcome."), field="outcome")
    if on < case.opened_on:
        raise RuleViolation(
            _(
                "The case opened on %(date)s; it cannot close before that.",
                date=case.opened_on.isoformat(),
            ),
            field="closed_on",
        )
    case.outcome, case.closed_on = outcome, on
    add_timeline_entry(case, "closed", on, note, by, outcome=outcome)
    return case


def reopen_case(
    case: Case, by: User | None, on: date | None = None, note: str | None = None
) -> Case:
    """Clear the outcome; the timeline keeps what it was."""
    acting(by)
    if case.is_open:
        raise RuleViolation(_("This case is open already."))
    previous = case.outcome
    case.outcome, case.closed_on = None, None
    add_timeline_entry(case, "reopened", on or dates.today(), note, by, outcome=previous)
    return case


def add_deadline(
    case: Case, due_on: date, title: str, by: User | None, legal_basis: str | None = None
) -> Deadline:
    """A deadline typed in by hand (or imported)."""
    acting(by)
    deadline = Deadline(
        case=case,
        due_on=due_on,
        title=title,
        legal_basis=legal_basis,
        created_by_id=by.id if by else None,
    )
    db.session.add(deadline)
    db.session.flush()
    return deadline


def sync_rule_deadlines(case: Case, by: User | None, calendars: Calendars | None = None) -> None:
    """Give the case the deadlines its rules set, counted from its dates: one per rule in force
    whose date is filled in, by the rule that applied on that date (the law changes: a ruling's
    copy received before an amendment is counted as the law then said). A date corrected later
    moves the open deadline with it, and to the rule of its new date, unless a court has
    extended that deadline. The calendar is the case region's."""
    acting(by)
    rules = active_rules(case.case_type)
    if not rules:
        return
    work = (calendars or work_calendars()).for_region(case.region)
    existing = {d.rule_id: d for d in case.deadlines if d.rule_id is not None}
    by_id = {rule.id: rule for rule in rules}
    # The texts are sealed with the client's key; a client whose data was erased has none, and
    # the deadline then shows the rule's name.
    has_key = case.sealing_key() is not None
    for rule in rules:
        start = trigger_date(case, rule.trigger)
        if start is None or not rule.applies_on(start):
            continue
        due_on = term_end(start, rule.length, rule.unit, work)
        deadline = existing.get(rule.id) or _stale_deadline(case, rule, start, by_id)
        if deadline is None:
            deadline = Deadline(
                case=case,
                rule_id=rule.id,
                due_on=due_on,
                title=rule.name if has_key else None,
                legal_basis=rule.legal_basis if has_key else None,
                created_by_id=by.id if by else None,
            )
            db.session.add(deadline)
        elif deadline.is_open and not deadline.is_extended:
            if deadline.rule_id != rule.id:
                deadline.rule_id = rule.id
                if has_key:
                    deadline.title, deadline.legal_basis = rule.name, rule.legal_basis
            if deadline.due_on != due_on:
                deadline.due_on = due_on
    db.session.flush()


def _stale_deadline(case: Case, rule, start: date, rules: dict) -> Deadline | None:
    """An open, unextended deadline of the case from another rule counting from the same date
    that no longer applies on ``start`` (the date was corrected across an amendment)."""
    for deadline in case.deadlines:
        other = rules.get(deadline.rule_id)
        if (
            other is not None
            and other.id != rule.id
            and other.trigger == rule.trigger
            and not other.applies_on(start)
            and deadline.is_open
            and not deadline.is_extended
        ):
            return deadline
    return None


def resolve_deadline(
    deadline: Deadline, status: str, on: date, by: User | None, note: str | None = None
) -> Deadline:
    """Record that an open deadline was met or missed on ``on``; the timeline says so."""
    acting(by)
    if not deadline.is_open:
        raise RuleViolation(_("This deadline is no longer open."))
    if status not in ("met", "missed"):
        raise RuleViolation(_("A deadline is met or missed."), field="action")
    deadline.status, deadline.resolved_on = status, on
    kind = "term_met" if status == "met" else "term_missed"
    add_timeline_entry(deadline.case, kind, on, _deadline_text(deadline, note), by)
    return deadline


def act_on_deadline(
    deadline: Deadline, action: str, on: date, by: User | None, note: str | None = None
) -> Deadline:
    """What the case page's deadline form records: "met" or "missed" on ``on``, or "extended"
    to the new date ``on``."""
    if action == "extended":
        return extend_deadline(deadline, on, by=by, note=note)
    return resolve_deadline(deadline, action, on, by=by, note=note)


def extend_deadline(
    deadline: Deadline, due_on: date, by: User | None, note: str | None = None
) -> Deadline:
    """A court's new date on petition: extends an open deadline, or restores a missed one."""
    acting(by)
    if deadline.status == "met":
        raise RuleViolation(_("This deadline was met; there is nothing to extend."))
    if deadline.is_open and due_on <= deadline.due_on:
        raise RuleViolation(_("An extension moves the deadline later."), field="due_on")
    kind = "term_extended" if deadline.is_open else "term_restored"
    previous = deadline.due_on
    deadline.due_on, deadline.status, deadline.resolved_on = due_on, "open", None
    deadline.is_extended = True
    text = _(
        "%(title)s: %(old)s → %(new)s",
        title=deadline.shown_title,
        old=previous.isoformat(),
        new=due_on.isoformat(),
    )
    add_timeline_entry(deadline.case, kind, dates.today(), f"{text}\n{note}" if note else text, by)
    return deadline


def _deadline_text(deadline: Deadline, note: str | None) -> str:
    text = _(
        "%(title)s (due %(date)s)", title=deadline.shown_title, date=deadline.due_on.isoformat()
    )
    return f"{text}\n{note}" if note else text
