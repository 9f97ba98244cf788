"""Counting procedural terms: days, months, month ends, leap years, holidays and weekends."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cases.terms import DAYS, MONTHS, WorkCalendar, add_months, next_working_day, term_end

# Russia's fixed public holidays for 2025–2026, and one moved working day (a Saturday).
HOLIDAYS = frozenset(
    date(y, m, d)
    for y in (2025, 2026)
    for m, d in [
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 6),
        (1, 7),
        (1, 8),
        (2, 23),
        (3, 8),
        (5, 1),
        (5, 9),
        (6, 12),
        (11, 4),
    ]
)
WORK = WorkCalendar(holidays=HOLIDAYS, working_weekends=frozenset({date(2025, 11, 1)}))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
    ],
)
def test_add_months_lands_on_the_same_date_or_the_months_last_day(start, months, end):
    assert add_months(start, months) == end


@pytest.mark.parametrize(
    ("start", "length", "unit", "end"),
    [
        # 10 days from receiving the ruling's copy on Tue 4 Mar 2025: Fri 14 Mar.
        (date(2025, 3, 4), 10, DAYS, date(2025, 3, 14)),
        # Ends on Sat 15 Mar → Mon 17 Mar.
        (date(2025, 3, 5), 10, DAYS, date(2025, 3, 17)),
        # Ends on 1 Jan 2026, inside the New Year holidays and their weekend → Fri 9 Jan.
        (date(2025, 12, 22), 10, DAYS, date(2026, 1, 9)),
        # Ends on Sat 1 Nov 2025, a moved working day: it stays there.
        (date(2025, 10, 22), 10, DAYS, date(2025, 11, 1)),
        # Ends on Tue 4 Nov 2025 (a holiday) → Wed 5 Nov.
        (date(2025, 10, 25), 10, DAYS, date(2025, 11, 5)),
        # 3 months from a school refusal on 30 Nov 2025: 28 Feb 2026 is a Saturday → Mon 2 Mar.
        (date(2025, 11, 30), 3, MONTHS, date(2026, 3, 2)),
        # 3 months from 8 Dec 2025: 8 Mar 2026 is a Sunday and a holiday → Mon 9 Mar.
        (date(2025, 12, 8), 3, MONTHS, date(2026, 3, 9)),
    ],
)
def test_terms_worked_out_by_hand(start, length, unit, end):
    assert term_end(start, length, unit, WORK) == end


@given(start=dates, length=st.integers(1, 400))
def test_a_term_in_days_ends_on_its_last_day_or_the_next_working_day(start, length):
    last = start + timedelta(days=length)
    end = term_end(start, length, DAYS, WORK)
    assert end >= last and WORK.is_working(end)
    assert all(not WORK.is_working(last + timedelta(days=i)) for i in range((end - last).days))


@given(start=dates, months=st.integers(1, 36))
def test_a_term_in_months_ends_on_the_same_date_or_the_months_end(start, months):
    last = add_months(start, months)
    assert (last.year * 12 + last.month) - (start.year * 12 + start.month) == months
    next_month_start = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_length = (next_month_start - timedelta(days=1)).day
    assert last.day == min(start.day, month_length)
    end = term_end(start, months, MONTHS, WORK)
    assert end == next_working_day(last, WORK) and WORK.is_working(end)


@given(day=dates)
def test_weekends_rest_unless_moved_and_holidays_rest(day):
    expected = day in WORK.working_weekends or (day.weekday() < 5 and day not in HOLIDAYS)
    assert WORK.is_working(day) == expected


def test_a_term_must_last():
    with pytest.raises(ValueError):
        term_end(date(2025, 1, 1), 0, DAYS, WORK)
