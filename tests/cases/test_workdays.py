"""Russia's working calendar and the terms counted on it, against the government's decrees.

The reference below is written separately from the app: it reads the ``holidays`` library's
data for Russia and counts as the codes say (KoAP art. 4.8, KAS art. 92–93), without calling
any of app.cases' code."""

import calendar as months_calendar
from datetime import date, timedelta

import holidays
import pytest

from app.cases.regions import region_code
from app.cases.terms import DAYS, MONTHS, SUTKI, explain, term_end
from app.cases.workdays import Calendars, decree_years, library_calendar

_RUSSIA = holidays.Russia(years=range(2022, 2030))
_OFF = set(_RUSSIA)  # public holidays, decreed days off, art. 112 part 2 days off
_ON = set(_RUSSIA.weekend_workdays)  # Saturdays made working days by decree


def reference_working(day: date) -> bool:
    """Labour Code: Saturdays and Sundays are days off, and so are the holidays and the days
    the decree moves; a weekend day the decree makes a working day is one."""
    if day in _ON:
        return True
    return day.isoweekday() <= 5 and day not in _OFF


def reference_end(start: date, length: int, unit: str) -> date:
    """KoAP art. 4.8 / KAS art. 92–93: days run from the next day and end on the last one;
    months end on the same date of the last month (or its last day); a last day that is not a
    working day gives way to the next working day. Сутки do not give way."""
    if unit == MONTHS:
        year = start.year + (start.month - 1 + length) // 12
        month = (start.month - 1 + length) % 12 + 1
        last = date(year, month, min(start.day, months_calendar.monthrange(year, month)[1]))
    else:
        last = start + timedelta(days=length)
        if unit == SUTKI:
            return last
    while not reference_working(last):
        last = last + timedelta(days=1)
    return last


EVENT_DATES = [date(2023, 1, 1) + timedelta(days=n) for n in range(365 * 5 + 1)]  # 2023–2027
WORK = library_calendar()


@pytest.mark.parametrize(("length", "unit"), [(10, DAYS), (3, MONTHS), (10, SUTKI)])
def test_every_event_date_of_2023_to_2027_ends_where_the_decrees_say(length, unit):
    wrong = [
        (start, term_end(start, length, unit, WORK), reference_end(start, length, unit))
        for start in EVENT_DATES
        if term_end(start, length, unit, WORK) != reference_end(start, length, unit)
    ]
    assert wrong == []
    ends = [term_end(start, length, unit, WORK) for start in EVENT_DATES]
    if unit == DAYS:
        # The sweep passes over a last day on a working Saturday and over long chains of days off.
        assert date(2025, 11, 1) in ends and date(2024, 12, 28) in ends
        assert (
            max((e - (s + timedelta(days=10))).days for s, e in zip(EVENT_DATES, ends, strict=True))
            >= 10
        )


@pytest.mark.parametrize(
    ("start", "length", "unit", "end"),
    [
        # Decree of 4 Oct 2024 No. 1335: Sat 1 Nov 2025 is a working day.
        (date(2025, 10, 22), 10, DAYS, date(2025, 11, 1)),
        # 1 May holiday, 2 May moved from 4 Jan, then the weekend: 5 May.
        (date(2025, 4, 21), 10, DAYS, date(2025, 5, 5)),
        # Decree of 10 Aug 2023 No. 1306: 27 Apr, 2 Nov, 28 Dec 2024 are working Saturdays.
        (date(2024, 4, 17), 10, DAYS, date(2024, 4, 27)),
        (date(2024, 10, 23), 10, DAYS, date(2024, 11, 2)),
        (date(2024, 12, 18), 10, DAYS, date(2024, 12, 28)),
        # 29–30 Apr 2024 moved days off, 1 May holiday: Thu 2 May.
        (date(2024, 4, 19), 10, DAYS, date(2024, 5, 2)),
        # New Year: 31 Dec 2024 moved, 1–8 Jan 2025 holidays: Thu 9 Jan.
        (date(2024, 12, 21), 10, DAYS, date(2025, 1, 9)),
        # New Year 2026: 1–8 Jan, 9 Jan moved from 3 Jan, weekend: Mon 12 Jan.
        (date(2025, 12, 22), 10, DAYS, date(2026, 1, 12)),
        # Art. 112 part 2: 8 Mar 2026 is a Sunday, 9 Mar a day off.
        (date(2025, 12, 8), 3, MONTHS, date(2026, 3, 10)),
        # 9 May 2026 is a Saturday, 11 May a day off.
        (date(2026, 2, 11), 3, MONTHS, date(2026, 5, 12)),
        # 31 Jan + 1 month ends in February, whose 28th 2025 is a Friday.
        (date(2024, 11, 30), 3, MONTHS, date(2025, 2, 28)),
        # Сутки stay on a Saturday.
        (date(2024, 10, 16), 10, SUTKI, date(2024, 10, 26)),
    ],
)
def test_real_world_terms(start, length, unit, end):
    assert term_end(start, length, unit, WORK) == end


def test_the_days_off_and_working_saturdays_the_decrees_name():
    off = [date(2026, 3, 9), date(2026, 5, 11), date(2025, 5, 2), date(2025, 5, 8)]
    off += [date(2025, 6, 13), date(2025, 11, 3), date(2025, 12, 31), date(2026, 1, 9)]
    assert not any(WORK.is_working(d) for d in off)
    saturdays = [date(2024, 4, 27), date(2024, 11, 2), date(2024, 12, 28), date(2025, 11, 1)]
    assert all(WORK.is_working(d) for d in saturdays)


def test_the_library_knows_the_decrees_up_to_2027_and_not_2028():
    assert {2023, 2024, 2025, 2026, 2027} <= set(decree_years())
    assert 2028 not in decree_years() and not WORK.is_known(2029)


def test_an_explanation_names_the_working_saturday_and_the_days_off():
    saturday = explain(date(2025, 10, 22), 10, DAYS, WORK)
    assert (saturday.due_on, saturday.working_weekend, saturday.days_off) == (
        date(2025, 11, 1),
        "decree",
        (),
    )
    may = explain(date(2025, 4, 21), 10, DAYS, WORK)
    assert may.due_on == date(2025, 5, 5)
    assert may.days_off == ((date(2025, 5, 1), date(2025, 5, 4)),)
    sutki = explain(date(2024, 10, 16), 10, SUTKI, WORK)
    assert sutki.due_on == date(2024, 10, 26) and sutki.stays_on_day_off


def test_a_year_without_a_decree_is_named_until_a_correction_is_entered():
    assert explain(date(2029, 3, 1), 10, DAYS, WORK).unknown_years == (2029,)
    assert explain(date(2028, 12, 25), 10, DAYS, WORK).unknown_years == (2029,)
    entered = Calendars([(date(2029, 1, 9), False, None)]).federal
    assert explain(date(2029, 3, 1), 10, DAYS, entered).unknown_years == ()
    # A region's own day does not make the federal decree known.
    regional = Calendars([(date(2029, 8, 30), False, "RU-TA")]).for_code("RU-TA")
    assert explain(date(2029, 3, 1), 10, DAYS, regional).unknown_years == (2029,)


def test_a_regions_day_off_applies_to_its_cases_only():
    calendars = Calendars([(date(2027, 8, 30), False, "RU-TA")])
    start = date(2027, 8, 20)  # + 10 days = Mon 30 Aug 2027, Republic Day in Tatarstan
    assert term_end(start, 10, DAYS, calendars.for_region("г. Казань")) == date(2027, 8, 31)
    assert term_end(start, 10, DAYS, calendars.for_region("Республика Татарстан")) == date(
        2027, 8, 31
    )
    assert term_end(start, 10, DAYS, calendars.for_region("Москва")) == date(2027, 8, 30)
    assert term_end(start, 10, DAYS, calendars.for_region("Уфа")) == date(2027, 8, 30)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Казань", "RU-TA"),
        ("Респ. Татарстан", "RU-TA"),
        ("Tatarstan", "RU-TA"),
        ("Уфа", "RU-BA"),
        ("Башкирия", "RU-BA"),
        ("Якутск", "RU-SA"),
        ("Москва", None),
        ("Санкт-Петербург", None),
        ("", None),
    ],
)
def test_a_cases_typed_region_is_matched_to_a_calendar_region(typed, code):
    assert region_code(typed) == code
