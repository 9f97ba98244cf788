from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from app.access import ROLES
from app.auth.models import LOCALES
from app.auth.services import PASSWORD_MAX
from app.forms_base import BaseForm, choices


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class _NewPassword:
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SetupForm(_NewPassword, BaseForm):
    """The first admin account, on a database with no users."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class NewUserForm(_NewPassword, BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLES), validators=[DataRequired()])


class PasswordChangeForm(_NewPassword, BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class UserForm(BaseForm):
    role = SelectField(_l("Role"), choices=choices(ROLES), validators=[DataRequired()])
    is_enabled = BooleanField(_l("Account enabled"))


class ConfirmForm(BaseForm):
    """A button that changes something: just the CSRF token."""


class LanguageForm(BaseForm):
    locale = SelectField(_l("Language"), choices=choices(LOCALES), validators=[DataRequired()])
