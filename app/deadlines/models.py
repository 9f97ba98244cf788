"""Deadlines: the rules that give a case its deadlines, the working calendar's corrections,
and each case's deadlines. They sit with the cases layer (``app.LAYERS``): a case's deadlines are
written with the case."""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.models import CASE_TYPES, NAME_MAX, SealedByItsCase
from app.cases.terms import TERM_LETTERS
from app.crypto import Sealed, organisation_key, seal_context
from app.extensions import db
from app.models_base import CreatedAtMixin, check_in

# The case dates a deadline rule may count from.
TRIGGERS = {
    "ruling_received_on": _l("copy of the ruling received on"),
    "refusal_on": _l("refusal date"),
    "decision_learned_on": _l("learned of the decision on"),
}
# KAS art. 219: the claim counts from the day the person learned of the decision; a school
# refusal not yet known to have reached them later counts from the refusal itself.
TRIGGER_FALLBACKS = {"decision_learned_on": "refusal_on"}
# "days" (дни) move off a day off; "sutki" (сутки) do not (see app.cases.terms).
TERM_UNITS = {
    "days": _l("days"),
    "sutki": _l("сутки (calendar days, not moved off a day off)"),
    "months": _l("months"),
}
# How pressing an open deadline is, in days left: "urgent" within URGENT, "soon" within SOON
# (the case page's colours, the deadlines page's "due within 7 days").
URGENT, SOON = 3, 7
DEADLINE_STATUSES = {"open": _l("open"), "met": _l("met"), "missed": _l("missed")}


class DeadlineRule(CreatedAtMixin, db.Model):
    """A term the law sets, counted from a date on the case: data an admin keeps.

    Its name and legal basis stay plain: they are law text, the same for every case of a type,
    about no one; `flask deadlines calc` prints them with no keys at hand. A deadline copies
    them into texts of its own, which are sealed (a deadline's title may also be typed)."""

    __tablename__ = "deadline_rules"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(check_in("case_type", CASE_TYPES), name="case_type"),
        sa.CheckConstraint(check_in("trigger", TRIGGERS), name="trigger"),
        sa.CheckConstraint(check_in("unit", TERM_UNITS), name="unit"),
        sa.CheckConstraint("length > 0", name="length"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to", name="valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    case_type: Mapped[str] = mapped_column(sa.String(32))
    trigger: Mapped[str] = mapped_column(sa.String(32))
    length: Mapped[int]
    unit: Mapped[str] = mapped_column(sa.String(8))
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The law changes: a rule applies to events on these days (both included; None: open).
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    def applies_on(self, day: date) -> bool:
        """In force, and the event on ``day`` is counted by this rule."""
        return (
            self.is_active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )

    @property
    def term_code(self) -> str:
        """SPEC's `term`: ``10d`` or ``3m`` (сутки are days there too)."""
        return f"{self.length}{TERM_LETTERS[self.unit]}"


def trigger_date(case, trigger: str) -> date | None:
    """The date a rule counts from on ``case`` (a Case or a row dict), or its fallback."""
    get = case.get if isinstance(case, dict) else lambda name: getattr(case, name, None)
    day = get(trigger)
    if day is None and trigger in TRIGGER_FALLBACKS:
        day = get(TRIGGER_FALLBACKS[trigger])
    return day


class CalendarDay(db.Model):
    """An admin's correction to the working calendar the ``holidays`` library gives: a day off
    or a working day it does not know yet, federal or (``region``, an ISO 3166-2 code from
    app.cases.regions) for one region's cases only."""

    __tablename__ = "calendar_days"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("day", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    is_working: Mapped[bool]
    region: Mapped[str | None] = mapped_column(sa.String(8))
    # A note is typed text and may name someone ("moved for Ivanov's hearing"); it belongs to
    # no client, so it is sealed with the organisation's data key.
    _note: Mapped[bytes | None] = mapped_column("note", sa.LargeBinary)
    note = Sealed("_note")

    def __init__(self, **fields) -> None:
        """The day comes first: the note is sealed bound to it."""
        super().__init__(day=fields.pop("day", None))
        for name, value in fields.items():
            setattr(self, name, value)

    def sealing_key(self) -> bytes:
        return organisation_key()

    def seal_context(self, name: str) -> str:
        return seal_context("calendar_days", name, self.day.isoformat())


class Deadline(SealedByItsCase, CreatedAtMixin, db.Model):
    """A date by which something must be done in a case: from a rule, typed in, or imported.
    It is open until it is met or missed; a court may extend it, or restore a missed one."""

    __tablename__ = "deadlines"
    __audited__ = True
    SEALED_TEXTS = ("title", "legal_basis")
    __table_args__ = (
        sa.CheckConstraint(check_in("status", DEADLINE_STATUSES), name="status"),
        sa.CheckConstraint("(status = 'open') = (resolved_on IS NULL)", name="resolved_with_date"),
        sa.Index(None, "status", "due_on"),
        sa.Index(None, "status", "case_id", "due_on"),  # each case's next open deadline
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deadline_rules.id"))
    due_on: Mapped[date]
    # Typed by hand or copied from a rule; a typed title may name people ("appeal for Karimov"):
    # sealed with the client's data key, like the case's texts. None once the data was erased.
    _title: Mapped[bytes | None] = mapped_column("title", sa.LargeBinary)
    title = Sealed("_title")
    _legal_basis: Mapped[bytes | None] = mapped_column("legal_basis", sa.LargeBinary)
    legal_basis = Sealed("_legal_basis")
    status: Mapped[str] = mapped_column(sa.String(8), default="open")
    resolved_on: Mapped[date | None]
    # Moved by a court on petition: a rule no longer recomputes it.
    is_extended: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case = relationship("Case", back_populates="deadlines")
    rule = relationship("DeadlineRule")

    @property
    def shown_title(self) -> str:
        """The title, or once the client's data was erased the rule's name (law text)."""
        return self.title or (self.rule.name if self.rule is not None else "—")

    @hybrid_property
    def is_open(self) -> bool:
        """Not met or missed yet: the CSV's next_deadline is the earliest open one."""
        return self.status == "open"

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.status == "open"

    @property
    def status_label(self) -> str:
        return str(DEADLINE_STATUSES[self.status])


def next_open_deadline(case_id) -> sa.ScalarSelect:
    """The day of the earliest open deadline of the case whose id is ``case_id`` (a column of
    the enclosing query): SPEC's ``next_deadline``. (A whole export reads the same from the
    index on open deadlines by case, grouped once: ``exports.queries.case_export_query``.)"""
    return (
        sa.select(sa.func.min(Deadline.due_on))
        .where(Deadline.case_id == case_id, Deadline.is_open)
        .scalar_subquery()
    )
