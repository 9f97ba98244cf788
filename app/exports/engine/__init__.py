"""The cases export engine, behind one door: ``stream_cases_csv``.

Whoever exports calls the door and gets the file; which path wrote it is the engine's affair.

    __init__.py   the door: the file's chunks, the path chosen; ``prepare_worker`` for gunicorn
    plain.py      the plain path: the models' rows through the one CSV writer (app.csvfiles)
    fast.py       the fast path in this process: driver cursor, read-ahead, ``CaseLines``
    parts.py      the fast path in parts, by helper processes (long exports, several processors)
    helpers.py    the helpers' fork server: helpers are never forked by a threaded process

The contract (tests/exports/test_engine.py): every path gives the plain path's bytes, on the
same database, SQLite and PostgreSQL. The fast path is what exports use; it is read by helper
processes when the export is long, the server has processors for them
(``HUQUQ_EXPORT_HELPERS``) and they can read what the exporting transaction reads — never when
it holds writes of its own, as a test's transaction does.
"""

from collections.abc import Iterator
from typing import Literal

from app.auth.models import User
from app.csvfiles import CASE_HEADERS, header
from app.exports.engine import parts
from app.exports.engine.fast import written_here
from app.exports.engine.helpers import HelperError
from app.exports.engine.plain import written_plainly
from app.exports.queries import case_export_query

__all__ = ["CaseFile", "HelperError", "prepare_worker", "stream_cases_csv"]


class CaseFile:
    """The cases CSV in UTF-8, chunk by chunk (the first is the BOM and the header row).
    ``rows``: how many cases the chunks handed out so far hold. ``close()`` stops the reading
    (and ends any helper) at once."""

    def __init__(self, chunks: Iterator[tuple[int, bytes]]) -> None:
        self._chunks = chunks
        self.rows = 0

    def __iter__(self) -> "CaseFile":
        return self

    def __next__(self) -> bytes:
        rows, data = next(self._chunks)
        self.rows += rows
        return data

    def close(self) -> None:
        self._chunks.close()


def stream_cases_csv(
    filters: dict,
    viewer: User | None,
    identified: bool,
    *,
    path: Literal["fast", "plain"] = "fast",
    helpers: int | None = None,
) -> CaseFile:
    """The cases ``viewer`` may see (None: every case) that match the case list's ``filters``,
    as SPEC's CSV, in the order they were entered; pseudonym codes, or the clients' names when
    ``identified``. Read in the session's current transaction (helpers read from its moment).

    ``path``: "fast" (the default) or "plain" (the reference the fast path equals).
    ``helpers``: how many helper processes the fast path may use (default: the configured
    number); whether it does is decided here (see the module's docstring)."""
    return CaseFile(_chunks(filters, viewer, identified, path, helpers))


def _chunks(
    filters: dict, viewer: User | None, identified: bool, path: str, helpers: int | None
) -> Iterator[tuple[int, bytes]]:
    yield 0, header(CASE_HEADERS).encode()
    if path == "plain":
        written = written_plainly(filters, viewer, identified)
    elif (wanted := parts.parts_wanted(filters, viewer, helpers))[0]:
        query = case_export_query(filters, viewer, identified, part=True)
        written = parts.written_in_parts(query, wanted[1], identified, wanted[0])
    else:
        written = written_here(case_export_query(filters, viewer, identified), identified)
    try:
        yield from written
    finally:
        written.close()  # the reading stops, its helpers end, before the caller's transaction


def prepare_worker(app) -> None:
    """What the engine needs started in a web worker before the worker's threads exist (and
    before the first export would wait for it): the helpers' fork server, when exports will
    use helpers. Called by gunicorn.conf.py's post_worker_init."""
    parts.prepare_helpers(app)
