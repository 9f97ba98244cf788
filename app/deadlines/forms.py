from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.cases.models import CASE_TYPES, NAME_MAX, TERM_UNITS, TRIGGERS
from app.forms_base import BaseForm, choices


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

    def rule_data(self) -> dict:
        return {k: v for k, v in self.data.items() if k != "csrf_token"}


DAY_KINDS = {"holiday": _l("holiday (no work)"), "working": _l("working day (moved)")}


class CalendarDayForm(BaseForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=choices(DAY_KINDS), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NAME_MAX)])
