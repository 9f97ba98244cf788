"""Procedural terms, counted the way Russian procedure counts them. Pure functions.

- A term in days ends on its last day: the event's date plus the number of days (the count
  starts the day after the event).
- A term in months ends on the same date of the last month, or on that month's last day when
  it has no such date (31 January + 1 month → 28 or 29 February).
- When the last day is not a working day, the term ends on the next working day (Code of
  Administrative Offences art. 4.8 part 3; Code of Administrative Court Procedure art. 93).

Working days: Monday to Friday, less the public holidays, plus the weekend days the government
moved work to; both lists are kept by an admin (``CalendarDay``).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

DAYS, MONTHS = "days", "months"


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    working_weekends: frozenset[date] = field(default_factory=frozenset)

    def is_working(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays


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


def term_end(start: date, length: int, unit: str, work: WorkCalendar) -> date:
    """The last day of a term of ``length`` days or months from the event on ``start``."""
    if length < 1:
        raise ValueError("a term lasts at least one day or month")
    last = start + timedelta(days=length) if unit == DAYS else add_months(start, length)
    return next_working_day(last, work)


def days_left(due_on: date, today: date) -> int:
    """Calendar days from today to the due date: 0 on the day, negative once overdue."""
    return (due_on - today).days
