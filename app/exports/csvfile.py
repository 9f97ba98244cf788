"""The one CSV writer: UTF-8 with a byte-order mark, comma separated, a header row, dates as
YYYY-MM-DD, empty cells for none, and SPEC's formula guard.

A cell that starts with =, +, -, @, a tab or a carriage return is written with a leading ' so
that no spreadsheet runs it as a formula; import removes that one ' again (``unguard``). A cell
that starts with ' before such a character gets one more too, or the round trip would lose its
own '."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_RISKY_FIRST = frozenset("".join(FORMULA_STARTS) + "'")  # a cell starting otherwise is safe


def _formula_like(text: str) -> bool:
    """Starts with a formula character, after any number of ' (so '=x and ''=x count too)."""
    return text.lstrip("'").startswith(FORMULA_STARTS)


def guard(text: str) -> str:
    return "'" + text if _formula_like(text) else text


def unguard(text: str) -> str:
    """Undo ``guard``: exactly one ' comes off, and only where ``guard`` would have put it."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # most cells: one character looked at, no copy made
        return guard(value) if value and value[0] in _RISKY_FIRST else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return guard(str(value))


def lines(headers: Iterable[str], rows: Iterable[Iterable], batch: int = 500) -> Iterator[str]:
    """The file in chunks of ``batch`` rows (the first starts with the BOM): rows are written as
    they are read, so memory stays flat whatever the size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    yield BOM + buffer.getvalue()
    pending = []
    for row in rows:
        pending.append([cell(value) for value in row])
        if len(pending) == batch:
            yield _written(buffer, writer, pending)
            pending = []
    if pending:
        yield _written(buffer, writer, pending)


def _written(buffer: io.StringIO, writer, rows: list) -> str:
    buffer.seek(0)
    buffer.truncate()
    writer.writerows(rows)
    return buffer.getvalue()


def download(filename: str, chunks: Iterable[str]) -> Response:
    """A streamed CSV download of ready-made lines."""
    response = Response(stream_with_context(chunks), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(filename: str, headers: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """A streamed download of these rows under these headers."""
    return download(filename, lines(headers, rows))
