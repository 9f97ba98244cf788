"""Reading a CSV file as spreadsheets really save it: UTF-8 with or without a byte-order mark,
or Windows-1251 (what spreadsheet programs with Russian settings write); comma or semicolon
separated; quoted cells with commas, quotes and line breaks; empty rows ignored."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from app.csvfiles import CASE_HEADERS, unguard

BINARY_SIGNATURES = (b"PK\x03\x04", b"\x89PNG", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x1f\x8b")


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Record:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str] | None  # None: the row's cell count is wrong
    problem: str | None = None


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped), else Windows-1251."""
    if not data.lstrip(b"\xef\xbb\xbf").strip():
        raise FileProblem(_("The file is empty."))
    if b"\x00" in data or data.startswith(BINARY_SIGNATURES):
        raise FileProblem(_("The file is not a CSV text file."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise FileProblem(_("The file is not a CSV text file.")) from None


def _delimiter(text: str) -> str:
    first = text.lstrip().split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _check_header(names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise FileProblem(_("Column %(name)s appears twice.", name=name))
        seen.add(name)
    missing = [n for n in CASE_HEADERS if n not in seen]
    unknown = [n for n in names if n not in CASE_HEADERS]
    problems = []
    if missing:
        problems.append(_("Missing columns: %(names)s.", names=", ".join(missing)))
    if unknown:
        problems.append(_("Unknown columns: %(names)s.", names=", ".join(unknown)))
    if problems:
        raise FileProblem(" ".join(problems))


def records(data: bytes) -> Iterator[Record]:
    """Every non-empty row after the header, by name. Raises FileProblem for the whole file."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise FileProblem(_("The file is empty."))
        names = [cell.strip().lower() for cell in header]
        _check_header(names)
        any_rows = False
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            any_rows = True
            if len(row) != len(names):
                yield Record(
                    number,
                    None,
                    ngettext(
                        "Row %(n)d: has %(num)d cell, but the header has %(m)d.",
                        "Row %(n)d: has %(num)d cells, but the header has %(m)d.",
                        len(row),
                        n=number,
                        m=len(names),
                    ),
                )
                continue
            yield Record(
                number, {name: unguard(cell) for name, cell in zip(names, row, strict=True)}
            )
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise FileProblem(
                _(
                    "Row %(n)d: a cell is far too long (over %(limit)d characters).",
                    n=reader.line_num,
                    limit=csv.field_size_limit(),
                )
            ) from None
        raise FileProblem(
            _(
                "The file cannot be read as CSV near row %(n)d: %(reason)s.",
                n=reader.line_num,
                reason=error,
            )
        ) from None
    if not any_rows:
        raise FileProblem(_("The file has no rows of cases."))
