"""Errors that services raise and routes and commands turn into messages for people."""

from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest


class RuleViolation(ValueError):
    """A write that would break a rule of the domain (e.g. closing a case before it opened).

    ``field`` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ErasedRecord(RuleViolation):
    """Text was given for a record whose client's data was erased (retention): there is no key
    to seal it with any more, and nothing that may name the person is kept in clear."""

    def __init__(self, field: str) -> None:
        super().__init__(
            _l("This client's data was erased: the case can no longer hold text about them."),
            field=field,
        )


class EditConflict(Exception):
    """Someone else saved the record since this form was opened; nothing was overwritten."""

    def __init__(self, record) -> None:
        super().__init__("edit conflict")
        self.record = record


class BadInput(BadRequest):
    """A request whose address or form holds something the app cannot take (a NUL character, a
    broken link): answered 400 with this message, in the person's language, and nothing done."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)


class Busy(Exception):
    """Too many requests need something scarce at once (the memory that password hashing takes,
    the database's write lock): answered "busy, try again" (503 with Retry-After) in the
    user's language, with nothing done."""

    def __init__(self, what: str, retry_after: int = 5) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after
