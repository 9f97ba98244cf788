import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.clients.countries import country_choices
from app.clients.models import LANGUAGES, NAME_MAX, TEXT_MAX
from app.dates import BIRTH_DATES_FROM
from app.forms_base import BaseForm, DateRange, choices, not_in_future

_PHONE_PUNCTUATION = re.compile(r"[\s()\-.]")


def normalise_phone(value):
    """'+7 (916) 123-45-67' → '+79161234567'; anything else is left for the validator to refuse."""
    if not isinstance(value, str):
        return value
    return _PHONE_PUNCTUATION.sub("", value)


def valid_phone(form, field):
    if field.data and not re.fullmatch(r"\+?[0-9]{5,20}", field.data):
        raise ValidationError(
            _l("Enter a phone number: digits, maybe a + first, e.g. +998 90 123 45 67.")
        )


class ClientForm(BaseForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    citizenship = SelectField(_l("Citizenship"), validators=[DataRequired()])
    phone = StringField(
        _l("Phone"),
        filters=[normalise_phone],
        validators=[Optional(), Length(max=40), valid_phone],
    )
    messenger = StringField(
        _l("Messenger contact"),
        description=_l("e.g. Telegram @name or WhatsApp via the same number"),
        validators=[Optional(), Length(max=NAME_MAX)],
    )
    safe_contact = StringField(
        _l("How to contact safely"),
        description=_l("e.g. never SMS; call through the brother; only after 19:00"),
        validators=[Optional(), Length(max=NAME_MAX)],
    )
    document_number = StringField(
        _l("Document number"),
        description=_l("Passport or other ID, for finding the client again"),
        validators=[Optional(), Length(max=40)],
    )
    preferred_language = SelectField(
        _l("Preferred language"),
        choices=choices(LANGUAGES, blank="—"),
        validators=[Optional()],
    )
    born_on = DateField(
        _l("Date of birth"),
        validators=[Optional(), not_in_future, DateRange(earliest=BIRTH_DATES_FROM)],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])
    different_person = BooleanField(_l("This is a different person: add them anyway"))

    def client_data(self) -> dict:
        return {k: v for k, v in self.data.items() if k not in ("csrf_token", "different_person")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.citizenship.choices = choices(country_choices(str(get_locale() or "en")), blank="—")


class ClientSearchForm(BaseForm):
    """Searching by name is a POST: a name must not end up in a URL, a history or a log."""

    q = StringField(_l("Name"), validators=[DataRequired(), Length(min=2, max=NAME_MAX)])
