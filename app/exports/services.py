"""Exports: the file a line at a time, and the audit record of who took what."""

import logging
from collections.abc import Iterator
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from app.audit.services import acting, record_event
from app.auth.models import User
from app.database import begin_reading, reattach, writing
from app.exports.engine import stream_cases_csv
from app.extensions import db

log = logging.getLogger(__name__)


def _plain(filters: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items() if v}


def export_cases(
    filters: dict, viewer: User | None, identified: bool, by: User | None
) -> Iterator[bytes]:
    """The cases CSV in UTF-8, a batch of rows (or a part) at a time, pseudonymised unless
    ``identified``.

    The export is in the audit trail before anything is read: this records its start at once
    (who, the filters, identified or not), in a short write transaction of its own
    (``writing``), and only then returns the file. If that record cannot be written (the
    database stays busy past its timeout) this raises and nothing is sent. When the last line
    is out, the download is cut off, or an error stops the export, its end is recorded too:
    the rows handed over and whether the file was complete, cut off or failed."""
    with writing():
        acting(by)
        started = record_event(
            "export_started",
            "cases",
            {"filters": [None, _plain(filters)], "identified": [None, identified]},
        )
    return _file(filters, viewer, identified, by, started)


def _file(
    filters: dict, viewer: User | None, identified: bool, by: User | None, started: int
) -> Iterator[bytes]:
    begin_reading()
    viewer, by = reattach(viewer), reattach(by)
    result = "cut_off"  # unless it ends otherwise: the download stopped
    file = stream_cases_csv(filters, viewer, identified)
    try:
        yield from file  # its rows count once handed over: a download cut off still has them
        result = "complete"
    except Exception:
        result = "failed"
        raise
    finally:
        file.close()  # the reading stops before the transaction does
        db.session.rollback()  # the read is over
        _record_end(by, started, file.rows, result)


def _record_end(by: User | None, started: int, rows: int, result: str) -> None:
    """The end of export ``started``, in a short write of its own. A failure to write it is
    logged, not raised: the file has been sent by then, and its start is on record."""
    try:
        with writing():
            acting(by)
            record_event(
                "export_finished",
                "cases",
                {"export": [None, started], "rows": [None, rows], "result": [None, result]},
            )
    except SQLAlchemyError:
        log.exception("the end of export %d (%s, %d rows) was not recorded", started, result, rows)
