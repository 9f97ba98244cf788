from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import Sealed, seal_context
from app.extensions import db
from app.identifiers import new_case_reference
from app.models_base import CreatedAtMixin, UtcDateTime, check_in, utcnow

SUMMARY_MAX = 10_000
NAME_MAX = 200
ROOM_MAX = 40  # a courtroom: "зал 5", "каб. 312"

# Stable codes (SPEC); only the labels are translated.
CASE_TYPES = {
    "deportation_challenge": _l("deportation challenge"),
    "school_refusal": _l("school refusal"),
    "registry_error": _l("registry error"),
    "forced_labour": _l("forced labour"),
    "police_abuse": _l("police abuse"),
    "other": _l("other"),
}
OUTCOMES = {
    "success": _l("success"),
    "partial": _l("partial success"),
    "failure": _l("failure"),
    "withdrawn": _l("withdrawn"),
}
# SPEC: decided = success + partial + failure; successful = success + partial.
DECIDED = ("success", "partial", "failure")
SUCCESSFUL = ("success", "partial")

REFUSAL_REASONS = {
    "documents_rejected": _l("documents rejected"),
    "language_test_failed": _l("language test failed"),
    "no_registration": _l("no registration"),
    "other": _l("other reason"),
}

# Entries a person adds, then the ones the app writes itself.
ENTRY_KINDS = {
    "note": _l("note"),
    "hearing": _l("hearing"),
    "filing": _l("filing"),
    "decision": _l("decision"),
}
SYSTEM_ENTRY_KINDS = {
    "closed": _l("closed"),
    "reopened": _l("reopened"),
    "term_met": _l("deadline met"),
    "term_missed": _l("deadline missed"),
    "term_extended": _l("deadline extended"),
    "term_restored": _l("deadline restored"),
}
ALL_ENTRY_KINDS = {**ENTRY_KINDS, **SYSTEM_ENTRY_KINDS}

# Fields that only one case type uses; cleared when the case has another type.
TYPE_FIELDS = {
    "deportation_challenge": ("offence_article", "ruling_on", "ruling_received_on"),
    "school_refusal": (
        "school_name",
        "school_grade",
        "refusal_on",
        "refusal_reason",
        "decision_learned_on",
    ),
    "registry_error": ("decision_learned_on",),
}


def other_type_fields(case_type: str) -> set[str]:
    """The type fields a case of ``case_type`` does not use (cleared when it has that type)."""
    own = set(TYPE_FIELDS.get(case_type, ()))
    return {name for fields in TYPE_FIELDS.values() for name in fields} - own


class Case(CreatedAtMixin, db.Model):
    __tablename__ = "cases"
    __audited__ = True
    __audit_skip__ = frozenset({"version"})
    SEALED_TEXTS = ("authority", "summary", "offence_article", "school_name", "school_grade")
    __table_args__ = (
        sa.CheckConstraint(check_in("case_type", CASE_TYPES), name="case_type"),
        sa.CheckConstraint(check_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint(check_in("refusal_reason", REFUSAL_REASONS), name="refusal_reason"),
        # An outcome and its date come together: open cases have neither.
        sa.CheckConstraint("(outcome IS NULL) = (closed_on IS NULL)", name="outcome_with_date"),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"
        ),
        # The case list reads newest first, by keyset, with or without a filter; reports read
        # by period. (tests/test_query_plans.py checks these are used.)
        sa.Index(None, "opened_on", "id"),
        sa.Index(None, "case_type", "opened_on", "id"),
        sa.Index(None, "assigned_to_id", "opened_on", "id"),
        sa.Index(None, "region", "opened_on", "id"),
        sa.Index(None, "closed_on"),
        sa.Index(None, "created_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    case_type: Mapped[str] = mapped_column(sa.String(32))
    opened_on: Mapped[date]
    region: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # What a person types about the case may name or single out people (a court and an article,
    # a school and a grade in a region identify a child): sealed with the client's data key
    # (see app.crypto). The codes and dates that statistics count stay plain.
    _authority: Mapped[bytes | None] = mapped_column("authority", sa.LargeBinary)
    authority = Sealed("_authority")
    _summary: Mapped[bytes | None] = mapped_column("summary", sa.LargeBinary)
    summary = Sealed("_summary")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    closed_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Checked on every save: a save made from an out-of-date page is refused, never applied.
    version: Mapped[int] = mapped_column(default=1)

    # deportation_challenge
    _offence_article: Mapped[bytes | None] = mapped_column("offence_article", sa.LargeBinary)
    offence_article = Sealed("_offence_article")
    ruling_on: Mapped[date | None]
    ruling_received_on: Mapped[date | None]
    # school_refusal
    _school_name: Mapped[bytes | None] = mapped_column("school_name", sa.LargeBinary)
    school_name = Sealed("_school_name")
    _school_grade: Mapped[bytes | None] = mapped_column("school_grade", sa.LargeBinary)
    school_grade = Sealed("_school_grade")
    refusal_on: Mapped[date | None]
    refusal_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # registry_error
    decision_learned_on: Mapped[date | None]

    __mapper_args__ = {"version_id_col": version}

    client = relationship("Client", back_populates="cases")
    created_by = relationship("User", foreign_keys=[created_by_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    deadlines = relationship(
        "Deadline", back_populates="case", order_by="Deadline.due_on", cascade="all, delete-orphan"
    )
    entries = relationship(
        "TimelineEntry",
        back_populates="case",
        order_by="(TimelineEntry.occurred_on, TimelineEntry.id)",
        cascade="all, delete-orphan",
    )

    def __init__(self, **fields) -> None:
        """The client and the reference come first: the summary is sealed with both."""
        super().__init__(
            client=fields.pop("client", None),
            reference=fields.pop("reference", None) or new_case_reference(),
        )
        for name, value in fields.items():
            setattr(self, name, value)

    def sealing_key(self) -> bytes | None:
        return self.client.sealing_key() if self.client is not None else None

    def seal_context(self, name: str) -> str:
        return seal_context("cases", name, self.reference)

    def reseal_for(self, client) -> None:
        """Move the case to another client: its texts, its timeline's and its deadlines' are
        sealed again with their key."""
        texts = [
            (row, getattr(type(row), name), getattr(row, name))
            for row in (self, *self.entries, *self.deadlines)
            for name in row.SEALED_TEXTS
        ]
        for row, sealed, _text in texts:  # the old key's ciphertexts would not open under the new
            setattr(row, sealed.column_attr, None)
        self.client = client
        for row, sealed, text in texts:
            setattr(row, sealed.name, text)

    @hybrid_property
    def is_open(self) -> bool:
        return self.closed_on is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.closed_on.is_(None)

    @hybrid_property
    def is_decided(self) -> bool:
        return self.outcome in DECIDED

    @is_decided.inplace.expression
    @classmethod
    def _is_decided_expression(cls):
        return cls.outcome.in_(DECIDED)

    @hybrid_property
    def is_successful(self) -> bool:
        return self.outcome in SUCCESSFUL

    @is_successful.inplace.expression
    @classmethod
    def _is_successful_expression(cls):
        return cls.outcome.in_(SUCCESSFUL)

    @property
    def case_type_label(self) -> str:
        return str(CASE_TYPES[self.case_type])

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES[self.outcome]) if self.outcome else ""

    @property
    def refusal_reason_label(self) -> str:
        return str(REFUSAL_REASONS[self.refusal_reason]) if self.refusal_reason else ""

    def __repr__(self) -> str:
        return f"<Case {self.reference}>"


class SealedByItsCase:
    """A row of a case whose typed texts are sealed with the case's client key, bound to its
    table, column and the case's reference. The case comes first when it is made: the texts
    given with it are sealed as they are set."""

    def __init__(self, **fields) -> None:
        super().__init__(case=fields.pop("case", None))
        for name, value in fields.items():
            setattr(self, name, value)

    def sealing_key(self) -> bytes | None:
        return self.case.sealing_key() if self.case is not None else None

    def seal_context(self, name: str) -> str:
        return seal_context(self.__tablename__, name, self.case.reference)


class TimelineEntry(SealedByItsCase, CreatedAtMixin, db.Model):
    __tablename__ = "timeline_entries"
    __audited__ = True
    SEALED_TEXTS = ("body", "court", "room")
    __table_args__ = (
        sa.CheckConstraint(check_in("kind", ALL_ENTRY_KINDS), name="kind"),
        sa.Index(None, "kind", "occurred_on"),  # hearings ahead
        sa.CheckConstraint(check_in("outcome", OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    occurred_on: Mapped[date]
    _body: Mapped[bytes | None] = mapped_column("body", sa.LargeBinary)
    body = Sealed("_body")
    # A hearing's time (local, in HUQUQ_TIMEZONE; none when not yet known) and place. The time
    # stays plain like the case's dates; the court and the room are typed, and with a date they
    # find the client in the court's published list of hearings: sealed with the client's key.
    hearing_time: Mapped[time | None]
    _court: Mapped[bytes | None] = mapped_column("court", sa.LargeBinary)
    court = Sealed("_court")
    _room: Mapped[bytes | None] = mapped_column("room", sa.LargeBinary)
    room = Sealed("_room")
    # "closed": the outcome recorded; "reopened": the outcome it replaced.
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case = relationship("Case", back_populates="entries")
    created_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return str(ALL_ENTRY_KINDS[self.kind])

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES[self.outcome]) if self.outcome else ""
