"""Importing cases from CSV: every row is checked first; one bad row refuses the whole file and
nothing is written. A checked file becomes a plan (what would be created, updated, left as it
is), which a dry run shows and applying carries out, in one transaction, through the same
service functions the forms use, so the rules and the audit trail hold for imports too."""

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext

from app import dates
from app.auth.models import User
from app.cases.models import CASE_TYPES, NAME_MAX, OUTCOMES, SUMMARY_MAX
from app.clients.countries import CODES
from app.clients.matching import same_name_key
from app.crypto import blind
from app.dates import CASE_DATES_FROM, CASE_DATES_TO
from app.forms_base import TOO_EARLY, TOO_LATE
from app.imports.bulk import apply_in_bulk
from app.imports.queries import (
    CASE_VALUES,
    cases_by_reference,
    clients_by_name_digest,
    clients_by_pseudonym,
    user_ids_by_email,
)
from app.imports.reading import FileProblem, records

REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}")
PSEUDONYM = re.compile(r"P-[0-9A-Z]{4}-[0-9A-Z]{4}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class PlannedRow:
    number: int
    reference: str | None
    values: dict
    client_name: str
    citizenship: str
    action: str = "create"  # create, update or unchanged
    case_id: int | None = None
    client_id: int | None = None  # an existing client, or None: a new one
    name_key: str | None = None  # same_name_key of client_name (not a pseudonym code)
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)

    @property
    def new_clients(self) -> int:
        return len(
            {
                (r.name_key, r.citizenship)
                for r in self.rows
                if r.client_id is None and r.action != "unchanged"
            }
        )


def _date(cells: dict, name: str, problems: list, number: int, past: bool = True):
    text = cells[name].strip()
    if not text:
        return None
    try:  # exactly YYYY-MM-DD: fromisoformat alone would take week dates such as 2025-W10-1
        value = date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
    except ValueError:
        value = None
    if value is None:
        problems.append(
            _(
                'Row %(n)d: %(column)s "%(value)s" is not a date as YYYY-MM-DD.',
                n=number,
                column=name,
                value=text,
            )
        )
    elif value < CASE_DATES_FROM or value > CASE_DATES_TO:  # as every form says it (app/dates.py)
        problems.append(
            _(
                "Row %(n)d: %(column)s: %(problem)s",
                n=number,
                column=name,
                problem=TOO_EARLY if value < CASE_DATES_FROM else TOO_LATE,
            )
        )
        value = None
    elif past and value > dates.today():
        problems.append(_("Row %(n)d: %(column)s is in the future.", n=number, column=name))
    return value


# Unicode's control characters (category Cc: U+0000–U+001F, U+007F–U+009F) but tab and line
# breaks.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def _check_codes(number: int, cells: dict, problems: list) -> None:
    for name, value in cells.items():
        if _has_control(value):
            problems.append(
                _("Row %(n)d: %(column)s contains a control character.", n=number, column=name)
            )
    case_type, outcome = cells["case_type"].strip(), cells["outcome"].strip()
    if not case_type:
        problems.append(_("Row %(n)d: case_type is empty.", n=number))
    elif case_type not in CASE_TYPES:
        problems.append(_('Row %(n)d: unknown case_type "%(value)s".', n=number, value=case_type))
    if outcome and outcome not in OUTCOMES:
        problems.append(_('Row %(n)d: unknown outcome "%(value)s".', n=number, value=outcome))
    citizenship = cells["citizenship"].strip()
    if not citizenship:
        problems.append(_("Row %(n)d: citizenship is empty.", n=number))
    elif citizenship.upper() not in CODES:
        problems.append(
            _(
                'Row %(n)d: citizenship "%(value)s" is not an ISO 3166-1 country code.',
                n=number,
                value=citizenship,
            )
        )
    reference = cells["reference"].strip()
    if reference and not REFERENCE.fullmatch(reference):
        problems.append(
            _(
                'Row %(n)d: reference "%(value)s" is not valid: use letters, digits and dashes, '
                "up to 16.",
                n=number,
                value=reference,
            )
        )


def _check_dates(number: int, cells: dict, problems: list) -> dict:
    dates = {
        "opened_on": _date(cells, "opened_on", problems, number),
        "closed_on": _date(cells, "closed_on", problems, number),
        "next_deadline": _date(cells, "next_deadline", problems, number, past=False),
    }
    has_outcome, has_closed = bool(cells["outcome"].strip()), bool(cells["closed_on"].strip())
    if not cells["opened_on"].strip():
        problems.append(_("Row %(n)d: opened_on is empty.", n=number))
    if has_outcome and not has_closed:
        problems.append(_("Row %(n)d: outcome is given but closed_on is empty.", n=number))
    if has_closed and not has_outcome:
        problems.append(_("Row %(n)d: closed_on is given but outcome is empty.", n=number))
    if dates["opened_on"] and dates["closed_on"] and dates["closed_on"] < dates["opened_on"]:
        problems.append(_("Row %(n)d: closed_on is before opened_on.", n=number))
    return dates


def _check_text(number: int, cells: dict, problems: list) -> None:
    for column, limit in (
        ("region", NAME_MAX),
        ("client_name", NAME_MAX),
        ("summary", SUMMARY_MAX),
    ):
        value = cells[column] if column == "summary" else cells[column].strip()
        if column != "summary" and not value:
            problems.append(_("Row %(n)d: %(column)s is empty.", n=number, column=column))
        elif column == "client_name" and not any(c.isalpha() for c in value):
            # "---", "123" or "🙂" would all be one and the same client.
            problems.append(
                _("Row %(n)d: client_name has no letters: write the client's name.", n=number)
            )
        if len(value) > limit:
            problems.append(
                ngettext(
                    "Row %(n)d: %(column)s is longer than %(num)d character.",
                    "Row %(n)d: %(column)s is longer than %(num)d characters.",
                    limit,
                    n=number,
                    column=column,
                )
            )


def _check(number: int, cells: dict, problems: list) -> PlannedRow:
    """Everything that can be checked from the row alone. Free text is kept as written
    (a summary's own spaces and line breaks included); names, places and codes are trimmed."""
    _check_codes(number, cells, problems)
    dates = _check_dates(number, cells, problems)
    _check_text(number, cells, problems)
    reference = cells["reference"].strip()
    return PlannedRow(
        number=number,
        reference=reference.upper() or None,
        values={
            "case_type": cells["case_type"].strip(),
            "region": cells["region"].strip(),
            "summary": cells["summary"] or None,
            "outcome": cells["outcome"].strip() or None,
            "assigned_to": cells["assigned_to"].strip().lower(),
            **dates,
        },
        client_name=cells["client_name"].strip(),
        citizenship=cells["citizenship"].strip().upper(),
    )


def plan_import(data: bytes) -> ImportPlan:
    """Check every row and work out what importing ``data`` would do. Reads, never writes."""
    plan = ImportPlan()
    try:
        raw = list(records(data))
    except FileProblem as problem:
        plan.errors.append(problem.message)
        return plan
    first_row: dict[str, int] = {}
    for record in raw:
        if record.cells is None:
            plan.errors.append(record.problem)
            continue
        row = _check(record.number, record.cells, plan.errors)
        if row.reference:
            if row.reference in first_row:
                plan.errors.append(
                    _(
                        'Row %(n)d: reference "%(value)s" appears again (first in row %(m)d).',
                        n=row.number,
                        value=record.cells["reference"].strip(),
                        m=first_row[row.reference],
                    )
                )
            first_row.setdefault(row.reference, row.number)
        plan.rows.append(row)
    _resolve(plan)
    return plan


def _resolve(plan: ImportPlan) -> None:
    """What needs the database: users, clients, existing cases; then create/update/unchanged."""
    emails = {r.values["assigned_to"] for r in plan.rows if r.values["assigned_to"]}
    users = user_ids_by_email(emails)
    codes = {r.client_name for r in plan.rows if PSEUDONYM.fullmatch(r.client_name)}
    by_code = clients_by_pseudonym(codes)
    key_of = {r.client_name: None for r in plan.rows if r.client_name not in codes}
    key_of = {name: same_name_key(name) for name in key_of}
    digest_of = {name: blind("fullname", key) for name, key in key_of.items()}
    by_name = clients_by_name_digest(set(digest_of.values()))
    cases = cases_by_reference({r.reference for r in plan.rows if r.reference})
    client_of = {c.id: c for c in by_code.values()}
    for row in plan.rows:
        email = row.values.pop("assigned_to")
        row.values["assigned_to_id"] = users.get(email) if email else None
        if email and email not in users:
            plan.errors.append(
                _('Row %(n)d: no user has the email "%(value)s".', n=row.number, value=email)
            )
        if row.client_name in codes:
            if row.client_name not in by_code:
                plan.errors.append(
                    _(
                        'Row %(n)d: no client has the pseudonym code "%(value)s".',
                        n=row.number,
                        value=row.client_name,
                    )
                )
                continue
            row.client_id = by_code[row.client_name].id
        existing = cases.get(row.reference)
        if row.client_name not in codes:
            row.name_key = key_of[row.client_name]
            key = (digest_of[row.client_name], row.citizenship)
            # Several clients may share a name: the case's own client, if it is one of them.
            same = existing is not None and (existing.name_digest, existing.citizenship) == key
            row.client_id = existing.client_id if same else by_name.get(key)
        if existing is None:
            continue
        row.case_id = existing.id
        row.changes = [name for name in CASE_VALUES if row.values[name] != getattr(existing, name)]
        if row.client_id != existing.client_id:
            row.changes.append("client_name")
        elif row.client_name in codes and client_of[row.client_id].citizenship != row.citizenship:
            row.changes.append("citizenship")
        row.action = "update" if row.changes else "unchanged"


def apply_import(
    plan: ImportPlan, by: User | None, timings: dict | None = None
) -> Generator[int, None, dict]:
    """Carry out a checked plan: yields how many rows are prepared every ``PROGRESS_EVERY``
    rows, then writes them all in one short transaction of its own (committed there; see
    app/imports/bulk.py) and returns the totals. Nothing is written on any error."""
    if not plan.ok:
        raise ValueError("a plan with errors cannot be applied")
    return (yield from apply_in_bulk(plan, by, timings))


def run_import(plan: ImportPlan, by: User | None) -> dict:
    """``apply_import`` without progress reports."""
    steps = apply_import(plan, by)
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            return finished.value
