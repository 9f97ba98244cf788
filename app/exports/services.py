"""Exports: the file a line at a time, and the audit record of who took what."""

from collections.abc import Iterator
from datetime import date

from app.audit.services import acting, record_event
from app.auth.models import User
from app.database import reattach
from app.exports.csvfile import lines
from app.exports.queries import CASE_HEADERS, case_export_query, case_rows, sealed_row
from app.extensions import db


def _plain(filters: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items() if v}


def export_cases(
    filters: dict, viewer: User | None, identified: bool, by: User | None
) -> Iterator[str]:
    """The cases CSV a line at a time (pseudonymised unless ``identified``). When the last
    line is out, or the download is cut off, the export is recorded in the audit trail: who,
    the filters, how many rows, identified or not, and whether it was complete."""
    viewer, by = reattach(viewer), reattach(by)
    sent, complete = 0, False

    def counted(rows):
        nonlocal sent
        for row in rows:
            sent += 1
            yield row

    try:
        raw = case_rows(case_export_query(filters, viewer))
        yield from lines(CASE_HEADERS, counted(sealed_row(row, identified) for row in raw))
        complete = True
    finally:
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
