"""The one CSV writer: UTF-8 with a byte-order mark, comma separated, a header row, dates as
YYYY-MM-DD, empty cells for none, and SPEC's formula guard.

A cell that starts with =, +, -, @, a tab or a carriage return is written with a leading ' so
that no spreadsheet runs it as a formula; import removes that one ' again (``unguard``)."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unguard(text: str) -> str:
    """Undo ``guard``: exactly one ' before a formula character comes off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return guard(str(value))


def lines(headers: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The file a line at a time (the first starts with the BOM): rows are written as they
    are read, so memory stays flat whatever the size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield BOM + line(headers)
    for row in rows:
        yield line(cell(value) for value in row)


def csv_response(filename: str, headers: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """A streamed download."""
    response = Response(
        stream_with_context(lines(headers, rows)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
