from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app import dates
from app.auth.queries import all_users
from app.cases.models import CASE_TYPES
from app.cases.queries import regions_in_use
from app.forms_base import BaseForm, DecimalField, QueryForm, choices
from app.reports.queries import Filters, Period, filter_citizenships


class ReportFilterForm(QueryForm):
    """The dashboard's filters, read from the URL (``from`` and ``to`` as SPEC names them)."""

    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To"), name="to", validators=[Optional()])
    case_type = SelectField(_l("Case type"))
    region = SelectField(_l("Region"))
    citizenship = SelectField(_l("Citizenship"))
    volunteer = SelectField(_l("Volunteer"))

    def __init__(self, *args, regions=(), citizenships=(), volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        anything = _l("all")
        self.case_type.choices = choices(CASE_TYPES, blank=anything)
        self.region.choices = choices(((r, r) for r in regions), blank=anything)
        self.citizenship.choices = choices(((c, c) for c in citizenships), blank=anything)
        self.volunteer.choices = choices(((str(i), e) for i, e in volunteers), blank=anything)

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period is before its start."))

    def period(self) -> Period:
        values = self.filters()
        return Period(values.get("start"), values.get("end"))

    def report_filters(self, visible_to=None) -> Filters:
        values = self.filters()
        volunteer = values.get("volunteer")
        return Filters(
            region=values.get("region"),
            citizenship=values.get("citizenship"),
            case_type=values.get("case_type"),
            assigned_to=int(volunteer) if volunteer else None,
            visible_to=visible_to,
        )


def report_filter_form(args, visible_to=None, users=None) -> ReportFilterForm:
    """The report filters from ``args`` (a request's URL arguments), validated, with the
    choices this database offers; over one user's own cases (``visible_to``), the only
    volunteer to choose is that user: other people's emails are not theirs to list.
    ``users``: every user, when the caller has read them already."""
    if users is None:
        users = [visible_to] if visible_to is not None else all_users()
    form = ReportFilterForm(
        args,
        regions=regions_in_use(),
        citizenships=filter_citizenships(),
        volunteers=[(u.id, u.email) for u in users],
    )
    form.validate()
    return form


class BenchmarkForm(BaseForm):
    case_type = SelectField(_l("Case type"), validators=[DataRequired()])
    low = DecimalField(
        _l("Lowest published rate, %"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    high = DecimalField(
        _l("Highest published rate, %"),
        places=2,
        description=_l("The same as the lowest when one figure was published."),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    publication = StringField(_l("Publication"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=1990)])
    quote = TextAreaField(_l("The sentence quoted"), validators=[DataRequired(), Length(max=2000)])

    def __init__(self, *args, case_types=CASE_TYPES, **kwargs):
        super().__init__(*args, **kwargs)
        self.case_type.choices = choices({k: CASE_TYPES[k] for k in case_types}, blank="—")

    def validate_year(self, field):
        """Checked when the form is, not when the module loaded: the year turns at midnight
        where the organisation works, and a server runs across New Year."""
        NumberRange(min=1990, max=dates.today().year)(self, field)

    def validate_high(self, field):
        if field.data is not None and self.low.data is not None and field.data < self.low.data:
            raise ValidationError(_l("The highest rate cannot be below the lowest."))

    def benchmark_data(self) -> dict:
        """Percentages as typed, stored as fractions (0.35)."""
        data = {k: v for k, v in self.data.items() if k != "csrf_token"}
        data["low"], data["high"] = data["low"] / 100, data["high"] / 100
        return data
