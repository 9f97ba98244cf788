from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from app import dates
from app.auth.queries import assignable_users
from app.cases.models import (
    CASE_TYPES,
    ENTRY_KINDS,
    NAME_MAX,
    OUTCOMES,
    REFUSAL_REASONS,
    ROOM_MAX,
    SUMMARY_MAX,
)
from app.cases.services import may_assign
from app.forms_base import BaseForm, QueryForm, choices, not_in_future

PAST_DATE = [Optional(), not_in_future]


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class CaseForm(BaseForm):
    case_type = SelectField(
        _l("Case type"), choices=choices(CASE_TYPES, blank="—"), validators=[DataRequired()]
    )
    opened_on = DateField(
        _l("Opened on"),
        default=dates.today,
        validators=[InputRequired(), not_in_future],
    )
    region = StringField(_l("Region"), validators=[DataRequired(), Length(max=NAME_MAX)])
    authority = StringField(_l("Court or agency"), validators=[Optional(), Length(max=NAME_MAX)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=SUMMARY_MAX)])
    assigned_to_id = SelectField(_l("Assigned to"), coerce=_optional_int, validators=[Optional()])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    offence_article = StringField(
        _l("Offence article"),
        description=_l("e.g. KoAP 18.8 part 1"),
        validators=[Optional(), Length(max=100)],
    )
    ruling_on = DateField(_l("Ruling date"), validators=PAST_DATE)
    ruling_received_on = DateField(_l("Copy of the ruling received on"), validators=PAST_DATE)

    school_name = StringField(
        _l("School or kindergarten"), validators=[Optional(), Length(max=NAME_MAX)]
    )
    school_grade = StringField(_l("Grade or group"), validators=[Optional(), Length(max=40)])
    refusal_on = DateField(_l("Refusal date"), validators=PAST_DATE)
    decision_learned_on = DateField(
        _l("Learned of the decision on"),
        validators=PAST_DATE,
        description=_l(
            "The court claim's 3 months count from this day; for a school refusal left empty, "
            "from the refusal date."
        ),
    )
    refusal_reason = SelectField(
        _l("Reason for refusal"),
        choices=choices(REFUSAL_REASONS, blank="—"),
        validators=[Optional()],
    )

    def __init__(self, *args, assignees=None, **kwargs):
        """``assignees``: (id, label) pairs the acting user may assign to; None hides the field."""
        super().__init__(*args, **kwargs)
        if assignees is None:
            del self.assigned_to_id
        else:
            self.assigned_to_id.choices = choices([(None, _l("nobody yet")), *assignees])

    def validate_ruling_received_on(self, field):
        if field.data and self.ruling_on.data and field.data < self.ruling_on.data:
            raise ValidationError(_l("The copy cannot arrive before the ruling was made."))

    def case_data(self) -> dict:
        return {k: v for k, v in self.data.items() if k not in ("csrf_token", "version")}


class CloseCaseForm(BaseForm):
    outcome = SelectField(
        _l("Outcome"), choices=choices(OUTCOMES, blank="—"), validators=[DataRequired()]
    )
    closed_on = DateField(
        _l("Outcome reached on"),
        default=dates.today,
        validators=[InputRequired(), not_in_future],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=SUMMARY_MAX)])


class ReopenCaseForm(BaseForm):
    note = TextAreaField(_l("Why reopen"), validators=[Optional(), Length(max=SUMMARY_MAX)])


class TimelineEntryForm(BaseForm):
    kind = SelectField(_l("Entry"), choices=choices(ENTRY_KINDS), validators=[DataRequired()])
    occurred_on = DateField(_l("Date"), default=dates.today, validators=[InputRequired()])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=SUMMARY_MAX)])
    # A hearing's time and place (the other kinds have none: the service drops them).
    # Typed as text, not a browser's time picker: that shows "2:30 PM" in an English browser,
    # and a court's summons says 14:30. "14.30" is how many people write it, and is taken too.
    hearing_time = TimeField(
        _l("Time"),
        format=["%H:%M", "%H.%M"],
        description=_l("Local time, 24-hour (14:30); leave empty if not known yet."),
        invalid_value_message=_l("Enter the time as hours and minutes, e.g. 14:30."),
        validators=[Optional()],
    )
    court = StringField(_l("Court"), validators=[Optional(), Length(max=NAME_MAX)])
    room = StringField(
        _l("Courtroom"),
        description=_l("Its number, e.g. 5 or 312."),
        validators=[Optional(), Length(max=ROOM_MAX)],
    )


STATUS_CHOICES = {"open": _l("open"), "closed": _l("closed")}


class CaseFilterForm(QueryForm):
    case_type = SelectField(_l("Case type"), choices=choices(CASE_TYPES, blank=_l("any")))
    status = SelectField(_l("Status"), choices=choices(STATUS_CHOICES, blank=_l("any")))
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOMES, blank=_l("any")))
    region = SelectField(_l("Region"))
    assigned = SelectField(_l("Assigned to"))
    opened_from = DateField(_l("Opened from"), validators=[Optional()])
    opened_to = DateField(_l("Opened to"), validators=[Optional()])

    def __init__(self, *args, assignees=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = choices(((r, r) for r in regions), blank=_l("any"))
        self.assigned.choices = choices(
            [
                ("me", _l("me")),
                ("none", _l("nobody")),
                *((str(i), label) for i, label in assignees),
            ],
            blank=_l("anyone"),
        )


class DeadlineForm(BaseForm):
    """A deadline typed in by hand."""

    title = StringField(_l("What is due"), validators=[DataRequired(), Length(max=NAME_MAX)])
    due_on = DateField(_l("Due on"), validators=[InputRequired()])
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=NAME_MAX)])


DEADLINE_ACTIONS = {
    "met": _l("met"),
    "missed": _l("missed"),
    "extended": _l("extended or restored by the court"),
}


class DeadlineActionForm(BaseForm):
    """What happened to a deadline: met or missed on a date, or a new date on petition."""

    action = SelectField(
        _l("What happened"),
        choices=choices(DEADLINE_ACTIONS, blank="—"),
        validators=[DataRequired()],
    )
    on = DateField(_l("Date"), default=dates.today, validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NAME_MAX)])

    def validate_on(self, field):
        if self.action.data in ("met", "missed") and field.data and field.data > dates.today():
            raise ValidationError(_l("This date is in the future."))


def case_form(user, **kwargs) -> CaseForm:
    """The case form for ``user``: with the assignment field only if they may assign cases
    (``cases.services.may_assign``, the rule the service enforces)."""
    assignees = assignable_users() if may_assign(user) else None
    return CaseForm(assignees=assignees, **kwargs)
