"""What the app takes from a request's address before any view runs: numbers a database can
hold, and no NUL characters.

A number past what an id column holds (PostgreSQL's ``integer``) overflows the query, and
PostgreSQL refuses a NUL in any text; either used to end as a 500. Here they end as a 404 (no
such record or page) or a 400 that says what was wrong.
"""

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from app.errors import BadInput
from app.models_base import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: 1 to MAX_ID. Any other number (a 20-digit one included, or
    one too long for Python to read) does not match the route, which then answers 404."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if len(value) > len(str(self.max)):
            raise ValidationError()
        return super().to_python(value)


def page_number(name: str = "page") -> int:
    """The page asked for in the query string: 1 when absent or not a number; past MAX_ID
    there is no such page (404)."""
    text = request.args.get(name, "")
    if not text.isascii() or not text.isdigit():
        return 1
    if len(text) > len(str(MAX_ID)) or int(text) > MAX_ID:
        raise NotFound()
    return max(int(text), 1)


def refuse_nul_characters() -> None:
    """before_request: a NUL in the path or the query string is refused (400) before anything
    reads it; nobody types one, and PostgreSQL cannot store one. (A form's text fields drop
    control characters as they are read, NUL included: ``forms_base.clean_text``.)"""
    sent = [("", request.path), *request.args.items(multi=True)]
    if any("\0" in name or "\0" in value for name, value in sent):
        raise BadInput(_("The address holds a character that cannot be used (NUL)."))
