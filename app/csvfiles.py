"""The CSV rule, once for every file the app writes or reads: the columns of the cases file
(export and import), and the one writer: UTF-8 with a byte-order mark, comma separated, a
header row, dates as YYYY-MM-DD, empty cells for none, and SPEC's formula guard.

A cell that starts with =, +, -, @, a tab or a carriage return is written with a leading ' so
that no spreadsheet runs it as a formula; import removes that one ' again (``unguard``). So is a
cell that starts with white space (spaces, line breaks, any other) before one of those four
signs, or with a compatibility form of one that a spreadsheet may read as it (full-width
＝＋－＠, small, superscript and subscript forms: those whose NFKC form is the sign), since
spreadsheets skip the one and fold the other. A cell that starts with ' before any of this gets
one more too, or the round trip would lose its own '.

Fields are quoted as RFC 4180 and Python's csv module (minimal quoting) do it — only where they
hold a quote, a comma or a line break, quotes doubled — by a few lines here rather than
``csv.writer``, which costs twice as much per row; the tests compare the two byte for byte."""

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask import Response, stream_with_context

# SPEC's columns of the cases file, in its order: what an export writes and an import reads.
CASE_HEADERS = (
    "reference",
    "case_type",
    "opened_on",
    "region",
    "client_name",
    "citizenship",
    "assigned_to",
    "outcome",
    "closed_on",
    "next_deadline",
    "summary",
)
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# =, +, - and @, and every character whose NFKC form is one of them (tests/exports check this).
FORMULA_SIGNS = frozenset(
    "=+-@\u207a\u207c\u208a\u208c\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20"
)
# Every character str.isspace() holds to be white space (tests/exports check this).
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A cell starting with anything else is safe.
_RISKY_FIRST = frozenset(FORMULA_STARTS) | FORMULA_SIGNS | WHITE_SPACE | {"'"}


def _formula_like(text: str) -> bool:
    """After any number of ' (so '=x and ''=x count too): starts with a tab or a carriage
    return, or with a formula sign after any white space."""
    text = text.lstrip("'")
    if text.startswith(("\t", "\r")):
        return True
    text = text.lstrip()
    return bool(text) and text[0] in FORMULA_SIGNS


def guard(text: str) -> str:
    return "'" + text if _formula_like(text) else text


def unguard(text: str) -> str:
    """Undo ``guard``: exactly one ' comes off, and only where ``guard`` would have put it."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text


# A cell holding one of these is quoted. ``cell`` spells them out: four searches for one
# character each cost less than one search for any of them.
_QUOTED = '",\r\n'


def cell(text: str | None) -> str:
    """One cell as written: empty for none, guarded, quoted where it must be."""
    if not text:
        return ""
    if text[0] in _RISKY_FIRST:
        text = guard(text)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def text_of(value) -> str | None:
    """A value as its cell's text: dates as YYYY-MM-DD, none as None."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def lines(headers: Iterable[str], rows: Iterable[Iterable], batch: int = 500) -> Iterator[str]:
    """The file for rows of any values (dates, numbers, text, None)."""
    return text_lines(headers, batched(([text_of(v) for v in row] for row in rows), batch))


def header(headers: Iterable[str]) -> str:
    """The file's first chunk: the BOM and the header row."""
    return BOM + ",".join(map(cell, headers)) + "\r\n"


def text_lines(headers: Iterable[str], batches: Iterable[list]) -> Iterator[str]:
    """The file in one chunk per batch of rows whose cells are text or None (the first chunk
    is the BOM and the header): rows are written as they are read, so memory stays flat
    whatever the size."""
    yield header(headers)
    for rows in batches:
        yield rows_text(rows)


def rows_text(rows: list) -> str:
    """A batch of rows of text-or-None cells, each line ending with a line break."""
    written = [",".join(map(cell, row)) for row in rows]
    written.append("")  # the last line ends with a line break too
    return "\r\n".join(written)


def _any_of(characters) -> str:
    return f"[{re.escape(''.join(sorted(characters)))}]"


# After the \0 that ``need_nothing`` puts before each cell: a start the guard acts on, or a '.
_GUARDED_START = re.compile(f"\0(?:['\t\r]|{_any_of(WHITE_SPACE)}*{_any_of(FORMULA_SIGNS)})")


def need_nothing(cells: Iterable[str]) -> bool:
    """True when none of these cells needs anything from the writer, so they can be written as
    they are: a few searches over many cells (codes, references) instead of a check per cell.
    It is cautious: a cell the guard might change (any that starts with '), or one holding a
    NUL before such a character, counts as not plain."""
    joined = "\0" + "\0".join(cells)
    return not any(sign in joined for sign in _QUOTED) and not _GUARDED_START.search(joined)


def batched(items: Iterable, size: int) -> Iterator[list]:
    pending = []
    for item in items:
        pending.append(item)
        if len(pending) == size:
            yield pending
            pending = []
    if pending:
        yield pending


def download(filename: str, chunks: Iterable[str] | Iterable[bytes]) -> Response:
    """A streamed CSV download of ready-made lines (text, or UTF-8)."""
    response = Response(stream_with_context(chunks), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(filename: str, headers: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """A streamed download of these rows under these headers."""
    return download(filename, lines(headers, rows))
