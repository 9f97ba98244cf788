from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from app.forms_base import BaseForm
from app.security.services import RETENTION_MAX, RETENTION_MIN


class RetentionForm(BaseForm):
    days = IntegerField(
        _l("Keep identifying data for (days after the last case closed)"),
        description=_l("Empty: keep it until someone erases it by hand."),
        validators=[Optional(), NumberRange(min=RETENTION_MIN, max=RETENTION_MAX)],
    )
