from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from app.forms_base import BaseForm


class ConfirmPasswordForm(BaseForm):
    """An identified export asks the admin for their password again."""

    password = PasswordField(
        _l("Your password, again"), validators=[DataRequired(), Length(max=128)]
    )
