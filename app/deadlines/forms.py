from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.cases.models import CASE_TYPES, NAME_MAX
from app.cases.regions import REGIONS
from app.deadlines.models import TERM_UNITS, TRIGGERS
from app.forms_base import BaseForm, QueryForm, choices


class RuleForm(BaseForm):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    case_type = SelectField(
        _l("Case type"), choices=choices(CASE_TYPES, blank="—"), validators=[DataRequired()]
    )
    trigger = SelectField(
        _l("Counted from"), choices=choices(TRIGGERS, blank="—"), validators=[DataRequired()]
    )
    length = IntegerField(_l("Length"), validators=[InputRequired(), NumberRange(min=1, max=3650)])
    unit = SelectField(_l("Unit"), choices=choices(TERM_UNITS), validators=[DataRequired()])
    legal_basis = TextAreaField(
        _l("Legal basis shown to users"), validators=[DataRequired(), Length(max=2000)]
    )
    is_active = BooleanField(_l("In force"), default=True)
    valid_from = DateField(
        _l("Applies to events from"),
        validators=[Optional()],
        description=_l("The day the law took force; empty: always."),
    )
    valid_to = DateField(
        _l("Applies to events until"),
        validators=[Optional()],
        description=_l("The day before an amendment replaced it; empty: still in force."),
    )

    def validate_valid_to(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("A rule cannot end before it starts."))

    def rule_data(self) -> dict:
        return {k: v for k, v in self.data.items() if k != "csrf_token"}


DAY_KINDS = {"holiday": _l("day off"), "working": _l("working day")}


class CalendarDayForm(BaseForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=choices(DAY_KINDS), validators=[DataRequired()])
    region = SelectField(
        _l("Applies to"),
        choices=choices(
            ((code, label) for code, (label, _names) in REGIONS.items()),
            blank=_l("all of Russia"),
        ),
        validators=[Optional()],
        description=_l("A region's own day applies to the cases whose region names it."),
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NAME_MAX)])


class CalculatorForm(QueryForm):
    """The deadline calculator: a rule, or a term typed in, from a date. Holds no identifiers,
    so it is a bookmarkable GET form."""

    on = DateField(_l("Event date"), validators=[Optional()])
    rule = SelectField(_l("Rule"), validators=[Optional()])
    length = IntegerField(_l("Or a term of"), validators=[Optional(), NumberRange(min=1, max=3650)])
    unit = SelectField(_l("Unit"), choices=choices(TERM_UNITS), validators=[Optional()])
    region = SelectField(
        _l("Region"),
        choices=choices(
            ((code, label) for code, (label, _names) in REGIONS.items()),
            blank=_l("all of Russia"),
        ),
        validators=[Optional()],
    )

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rule.choices = choices(
            ((str(rule.id), rule.name) for rule in rules), blank=_l("every rule in force")
        )
