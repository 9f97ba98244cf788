"""Procedural terms, counted the way Russian procedure counts them. Pure functions.

- A term in days (дни) ends on its last day: the event's date plus the number of days (the
  count starts the day after the event). When that last day is not a working day, the term ends
  on the next working day (Code of Administrative Offences art. 4.8 part 3; Code of
  Administrative Court Procedure art. 93).
- A term in сутки ends at midnight of its last day, the event's date plus the number of сутки,
  and does not move off a non-working day (KoAP art. 4.8 part 2; the Supreme Court's reading).
- A term in months ends on the same date of the last month, or on that month's last day when
  it has no such date (31 January + 1 month → 28 or 29 February); a last day that is not a
  working day moves as a term in days does.

Working days: Monday to Friday, less the days off, plus the weekend days the government made
working days (see ``app.cases.workdays`` for where they come from).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

DAYS, SUTKI, MONTHS = "days", "sutki", "months"
# SPEC's `term` column knows days and months only: сутки are written as days there.
TERM_LETTERS = {DAYS: "d", SUTKI: "d", MONTHS: "m"}


@dataclass(frozen=True)
class WorkCalendar:
    """``holidays``: weekdays that are days off; ``working_weekends``: Saturdays and Sundays
    made working days. ``corrected``: the days of either that an admin entered (the rest come
    from the government's decrees). ``known_years``: the years whose calendar is known (None:
    every year)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    working_weekends: frozenset[date] = field(default_factory=frozenset)
    corrected: frozenset[date] = field(default_factory=frozenset)
    known_years: frozenset[int] | None = None

    def is_working(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def is_known(self, year: int) -> bool:
        return self.known_years is None or year in self.known_years


def add_months(start: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day if it has no such date."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def next_working_day(day: date, work: WorkCalendar) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not work.is_working(day):
        day += timedelta(days=1)
    return day


def last_day(start: date, length: int, unit: str) -> date:
    """The term's last day as the calendar counts it, before any move off a day off."""
    if length < 1:
        raise ValueError("a term lasts at least one day or month")
    if unit == MONTHS:
        return add_months(start, length)
    if unit in (DAYS, SUTKI):
        return start + timedelta(days=length)
    raise ValueError(f"unknown unit {unit!r}")


def term_end(start: date, length: int, unit: str, work: WorkCalendar) -> date:
    """The last day of a term of ``length`` days, сутки or months from the event on
    ``start``."""
    last = last_day(start, length, unit)
    return last if unit == SUTKI else next_working_day(last, work)


@dataclass(frozen=True)
class Explanation:
    """Why a term ends when it does, in parts a template words in the reader's language.

    ``days_off``: the runs (first, last) of non-working days the end moved over;
    ``working_weekend``: "decree" or "correction" when the term ends on a Saturday or Sunday
    made a working day; ``stays_on_day_off``: a term in сутки that ends on a day off and stays
    there; ``unknown_years``: the years the count relied on whose calendar is not known yet."""

    start: date
    length: int
    unit: str
    last: date
    due_on: date
    days_off: tuple[tuple[date, date], ...] = ()
    working_weekend: str | None = None
    stays_on_day_off: bool = False
    unknown_years: tuple[int, ...] = ()


def _runs(days: list[date]) -> tuple[tuple[date, date], ...]:
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return tuple(runs)


def explain(start: date, length: int, unit: str, work: WorkCalendar) -> Explanation:
    """``term_end`` with its reasons."""
    last = last_day(start, length, unit)
    due_on = term_end(start, length, unit, work)
    if unit == SUTKI:
        # The calendar does not change where сутки end; it only tells the reader.
        return Explanation(
            start,
            length,
            unit,
            last,
            due_on,
            stays_on_day_off=work.is_known(last.year) and not work.is_working(last),
        )
    skipped = []
    day = last
    while day < due_on:
        skipped.append(day)
        day += timedelta(days=1)
    weekend = None
    if due_on.weekday() >= 5:
        weekend = "correction" if due_on in work.corrected else "decree"
    years = sorted({last.year, due_on.year})
    return Explanation(
        start,
        length,
        unit,
        last,
        due_on,
        days_off=_runs(skipped),
        working_weekend=weekend,
        unknown_years=tuple(y for y in years if not work.is_known(y)),
    )


def days_left(due_on: date, today: date) -> int:
    """Calendar days from today to the due date: 0 on the day, negative once overdue."""
    return (due_on - today).days
