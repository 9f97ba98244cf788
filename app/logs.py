"""Logs with nothing secret in them and no line forged through a request.

- A calendar feed's address holds its secret (``/calendar/<token>.ics``): whoever reads a log
  line with it can follow someone's deadlines and hearings. ``without_secrets`` hides it in
  every log record this process makes (``mask_log_records``, installed by the app: the Werkzeug
  development server's request lines, the app's own, any library's) and in gunicorn's logs
  (app/serving.py).
- A path may carry CR, LF or NUL (``%0d%0a``, ``%00``); written raw they start a new, forged log
  line. ``escaped`` writes every character outside printable ASCII as an escape: what a request
  brings into a log goes through it (the Werkzeug server escapes its request lines itself).
"""

import logging
import re
from urllib.parse import unquote

from flask import has_request_context

# A secret link: everything after /calendar/ (the token, ".ics", any query string) up to the
# end of the address.
_SECRET_LINK = re.compile(r"(/calendar/)[^\s\"]*", re.IGNORECASE)
HIDDEN = "[hidden]"


def without_secrets(text: str) -> str:
    """``text`` with the secret part of every secret link replaced by [hidden]. A client may
    %-encode any character of an address, so the text is also read %-decoded; where that holds
    a secret, the decoded text is what is kept, with the secret hidden."""
    if _SECRET_LINK.search(text):
        return _SECRET_LINK.sub(rf"\1{HIDDEN}", text)
    decoded = unquote(text, errors="replace")
    if decoded != text and _SECRET_LINK.search(decoded):
        return _SECRET_LINK.sub(rf"\1{HIDDEN}", decoded)
    return text


def escaped(text: str) -> str:
    """``text`` as one line of printable ASCII: line breaks, NUL, every other control character
    and anything outside ASCII as escapes (\\r, \\n, \\x00, \\u2028), and \\ as \\\\, so no part
    of it can end a log line or pass for an escape. (gunicorn escapes " itself.)"""
    return text.encode("unicode_escape").decode("ascii")


def mask_record(record: logging.LogRecord) -> bool:
    """A log record, its secrets hidden: in its message, and in its traceback. Written into
    a request's log records, its arguments (what came from the request) are escaped too."""
    if record.args and record.name != "werkzeug" and has_request_context():
        if isinstance(record.args, dict):
            record.args = {k: _escaped_argument(v) for k, v in record.args.items()}
        else:
            record.args = tuple(_escaped_argument(a) for a in record.args)
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit: logging reports it as it always does
        return True
    if (hidden := without_secrets(message)) != message:
        record.msg, record.args = hidden, None
    if record.exc_info and not record.exc_text:
        traceback = logging.Formatter().formatException(record.exc_info)
        if (hidden := without_secrets(traceback)) != traceback:
            record.exc_text = hidden
    return True


def _escaped_argument(value):
    return escaped(value) if isinstance(value, str) else value


def mask_log_records() -> None:
    """Every log record this process makes from now on goes through ``mask_record`` (once,
    however many apps are made): the Werkzeug server's request lines, the app's own, any
    library's."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_secrets", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        mask_record(record)
        return record

    masked_record.masks_secrets = True
    logging.setLogRecordFactory(masked_record)
