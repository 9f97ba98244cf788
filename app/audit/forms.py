from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from app.forms_base import QueryForm, choices


class AuditFilterForm(QueryForm):
    user = SelectField(_l("User"))
    case = StringField(_l("Case reference"), validators=[Optional(), Length(max=20)])
    occurred_from = DateField(_l("From"), validators=[Optional()])
    occurred_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user.choices = choices(((str(u.id), u.email) for u in users), blank=_l("anyone"))

    def filters(self) -> dict:
        values = super().filters()
        if "user" in values:
            values["actor_id"] = int(values.pop("user"))
        return values
