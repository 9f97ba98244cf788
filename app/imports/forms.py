from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired

from app.forms_base import BaseForm


class UploadForm(BaseForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "UTF-8 or Windows-1251, comma or semicolon separated, with SPEC's header row."
        ),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(
                ["csv", "txt"], _l("Choose a .csv file (saved as “CSV” from a spreadsheet).")
            ),
        ],
    )


class ApplyForm(BaseForm):
    """The confirmation after a dry run: just the CSRF token."""
