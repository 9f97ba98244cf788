"""Russia's working calendar: the ``holidays`` library's, with an admin's corrections on top.

The library knows the public holidays (Labour Code art. 112), the days off that each year's
government decree moves, the Saturdays it makes working days (``weekend_workdays``) and the day
off after a holiday on a weekend (art. 112 part 2), for every year up to the last decree it
carries. Upgrading the pinned ``holidays`` brings next year's decree. For a later year it knows
only the fixed holidays: such a year is "not known" until an admin enters a correction for it,
and every deadline that falls in it says so.

Corrections (``CalendarDay``) are days the library does not know yet: a day off or a working
day, federal or for one region (a republic's own holidays), which then apply only to the cases
of that region (see ``app.cases.regions``).
"""

from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib.metadata import version

from app.cases.regions import region_code
from app.cases.terms import WorkCalendar
from app.dates import CASE_DATES_FROM, CASE_DATES_TO

YEARS = range(CASE_DATES_FROM.year, CASE_DATES_TO.year + 1)
# What the open deadlines were last counted with (``Setting.calendar_counted``): when the
# installed library differs, they are counted again (app.deadlines.services).
CALENDAR_SOURCE = f"holidays {version('holidays')}"


def decree_years() -> range:
    """The years whose decree the installed library carries: from its first year to the year of
    the last decree in its data (a later year gets only the fixed holidays)."""
    import holidays  # imported when first needed: with every country's rules it takes 19 MB
    from holidays.countries.russia import RussiaStaticHolidays

    return range(holidays.Russia.start_year, max(RussiaStaticHolidays.special_public_holidays) + 1)


@cache
def library_days(language: str = "ru") -> tuple[dict[date, str], frozenset[date]]:
    """(days off with their names, weekend days made working) for every year a case may hold."""
    import holidays

    russia = holidays.Russia(years=YEARS, language=language)
    return dict(russia), frozenset(russia.weekend_workdays)


def library_year(year: int, locale: str = "ru") -> list[tuple[date, bool, str]]:
    """The library's days of a year, for the admin's page: (day, is working, name), the names in
    Russian or English."""
    names, working = library_days("ru" if locale.startswith("ru") else "en_US")
    days = [(d, False, name) for d, name in names.items() if d.year == year]
    days += [(d, True, "") for d in working if d.year == year]
    return sorted(days)


def library_calendar() -> WorkCalendar:
    return _library_calendar()


@cache
def _library_calendar() -> WorkCalendar:
    days_off, working = library_days()
    return WorkCalendar(
        holidays=frozenset(d for d in days_off if d.weekday() < 5),
        working_weekends=working,
        known_years=frozenset(decree_years()),
    )


def with_corrections(
    base: WorkCalendar, corrections: Iterable[tuple[date, bool]], known: bool = True
) -> WorkCalendar:
    """``base`` with (day, is_working) corrections on top; ``known``: a corrected year counts
    as known (federal corrections), or not (a region's own days)."""
    corrections = list(corrections)
    off = {d for d, working in corrections if not working}
    on = {d for d, working in corrections if working}
    years = base.known_years
    if known and years is not None:
        years = years | {d.year for d, _working in corrections}
    return WorkCalendar(
        holidays=(base.holidays - on) | {d for d in off if d.weekday() < 5},
        working_weekends=(base.working_weekends - off) | {d for d in on if d.weekday() >= 5},
        corrected=base.corrected | off | on,
        known_years=years,
    )


class Calendars:
    """The federal calendar and each region's, built once from the corrections read."""

    def __init__(self, corrections: Iterable[tuple[date, bool, str | None]]) -> None:
        corrections = list(corrections)
        self.federal = with_corrections(
            library_calendar(), ((d, w) for d, w, region in corrections if region is None)
        )
        self._regional: dict[str, list[tuple[date, bool]]] = {}
        for day, working, region in corrections:
            if region is not None:
                self._regional.setdefault(region, []).append((day, working))
        self._built: dict[str | None, WorkCalendar] = {None: self.federal}

    def for_code(self, code: str | None) -> WorkCalendar:
        if code not in self._built:
            self._built[code] = with_corrections(
                self.federal, self._regional.get(code, ()), known=False
            )
        return self._built[code]

    def for_region(self, region: str | None) -> WorkCalendar:
        """The calendar for a case whose region is typed as ``region``."""
        return self.for_code(region_code(region))
