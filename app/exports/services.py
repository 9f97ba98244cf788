"""Exports: the file a line at a time, and the audit record of who took what."""

from collections.abc import Iterator
from datetime import date

from app.audit.services import acting, record_event
from app.auth.models import User
from app.database import begin_reading, reattach
from app.exports.csvfile import header
from app.exports.parts import written_cases
from app.exports.queries import CASE_HEADERS
from app.extensions import db


def _plain(filters: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items() if v}


def export_cases(
    filters: dict, viewer: User | None, identified: bool, by: User | None
) -> Iterator[bytes]:
    """The cases CSV in UTF-8, a batch of rows (or a part) at a time, pseudonymised unless
    ``identified``. When the last line is out, or the download is cut off, the export is
    recorded in the audit trail: who, the filters, how many rows, identified or not, and
    whether it was complete."""
    begin_reading()
    viewer, by = reattach(viewer), reattach(by)
    sent, complete = 0, False

    written = written_cases(filters, viewer, identified)
    try:
        yield header(CASE_HEADERS).encode()
        for rows, lines in written:
            sent += rows  # handed over: a download cut off after it still counts them
            yield lines
        complete = True
    finally:
        written.close()  # the reading stops, and its cursors close, before the transaction ends
        # The read is over; the record is a short write of its own (on SQLite it then takes the
        # write lock cleanly instead of upgrading a long read).
        db.session.rollback()
        acting(by)
        record_event(
            "export",
            "cases",
            {
                "rows": [None, sent],
                "filters": [None, _plain(filters)],
                "identified": [None, identified],
                "complete": [None, complete],
            },
        )
        db.session.commit()
