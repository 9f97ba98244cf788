"""What every form shares: text cleaned the way a volunteer's paste needs, and date checks.

Text pasted from a messenger carries non-breaking spaces, zero-width characters, stray control
characters and Windows line ends; every text field is cleaned before it is validated, so what is
stored is what the person meant. An empty field becomes ``None``.

Every date field keeps to the range of app/dates.py (``DateRange``): the range of case dates
unless the field names another, so a slip of the keyboard (0001, 9999) is refused beside the
field, in a filter as in a form, before it reaches a query or the term arithmetic.
"""

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from app import dates
from app.dates import CASE_DATES_FROM, CASE_DATES_TO
from app.extensions import db

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000"), " ")


def clean_text(value):
    """Normalise pasted text; keeps line breaks and tabs, drops other control characters."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value).translate(_INVISIBLE).translate(_SPACES)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc")
    return value.strip() or None


def clean_line(value):
    """``clean_text`` for one-line fields: any run of white space becomes one space."""
    value = clean_text(value)
    return " ".join(value.split()) if isinstance(value, str) else value


# Said of a date outside the range, beside a form's field as in an import's list of problems.
TOO_EARLY = _l("This date is too far in the past; check the year.")
TOO_LATE = _l("This date is too far in the future; check the year.")


class DateRange:
    """The days a date field takes, both included (app/dates.py): case dates by default."""

    def __init__(self, earliest: date = CASE_DATES_FROM, latest: date = CASE_DATES_TO) -> None:
        self.earliest, self.latest = earliest, latest

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        if field.data < self.earliest:
            raise ValidationError(TOO_EARLY)
        if field.data > self.latest:
            raise ValidationError(TOO_LATE)


class DecimalField(wtforms.DecimalField):
    """A decimal number as typed; "NaN" and "Infinity", which Python reads as numbers, are not
    numbers a person means (and cannot be compared)."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter a number, such as 35 or 37.5."))


class _CleaningMeta:
    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, DateField):
            validators = list(unbound_field.kwargs.get("validators") or ())
            if not any(isinstance(v, DateRange) for v in validators):
                options["validators"] = [*validators, DateRange()]
        if issubclass(unbound_field.field_class, PasswordField):
            cleaner = None  # a password is exactly what was typed
        elif issubclass(unbound_field.field_class, TextAreaField):
            cleaner = clean_text
        elif issubclass(unbound_field.field_class, StringField):
            cleaner = clean_line
        else:
            cleaner = None
        if cleaner is not None:
            options["filters"] = (cleaner, *unbound_field.kwargs.get("filters", ()))
        return unbound_field.bind(form=form, **options)


class BaseForm(FlaskForm):
    """A form that changes something: CSRF-protected, text cleaned."""

    class Meta(_CleaningMeta, FlaskForm.Meta):
        pass


class QueryForm(Form):
    """A form read from the query string (filters): no CSRF, since it changes nothing."""

    class Meta(_CleaningMeta, Form.Meta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:  # a filter left out of the URL means "any", not a bad choice
            if isinstance(field, SelectField) and field.data is None:
                field.data = ""

    def filters(self) -> dict:
        """The filters that validated, by field name; a bad value is dropped (and shown)."""
        return {
            name: field.data
            for name, field in self._fields.items()
            if field.data not in (None, "") and not field.errors
        }


def not_in_future(form, field):
    if field.data is not None and field.data > dates.today():
        raise ValidationError(_l("This date is in the future."))


def choices(options: Mapping | Iterable[tuple], blank=None) -> list[SelectChoice]:
    """Select options from {value: label} or (value, label) pairs, after an optional blank one."""
    pairs = options.items() if isinstance(options, Mapping) else options
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(value, label) for value, label in pairs]


def show_refusal(form, refusal) -> None:
    """A service refused the write (``errors.RuleViolation``): nothing of it is kept (the
    session is rolled back), and its reason goes beside the field it names, or above the form."""
    db.session.rollback()
    field = getattr(form, refusal.field, None) if refusal.field else None
    if field is not None:
        field.errors = [*field.errors, refusal.message]
    else:
        form.form_errors.append(refusal.message)


def form_status(*forms) -> int:
    """422 when a form is shown again with errors (refused input), else 200."""
    return 422 if any(f.errors for f in forms) else 200
